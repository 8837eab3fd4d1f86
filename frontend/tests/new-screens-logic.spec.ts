import { describe, expect, it } from 'vitest'
import { availableActions, statusType } from '@/views/approvals/approvals'
import { planStatus, receivedPercent } from '@/views/contracts/contractFields'
import { contactPayload } from '@/views/contacts/contactFields'
import { lineTotal, stageIndex } from '@/views/opportunities/quote'

const empty = { name: '', title: '', mobile: '', phone: '', email: '', wechat: '', is_primary: false }

describe('contactPayload', () => {
  it('leaves empty fields out on create and always sends the primary flag', () => {
    const body = contactPayload({ ...empty, name: ' 张伟 ', mobile: '13812341234' }, empty, false)
    expect(body).toEqual({ name: '张伟', mobile: '13812341234', is_primary: false })
  })
  it('sends only changed fields on edit, a cleared one as null', () => {
    const original = { ...empty, name: '张伟', title: '经理', email: 'a@b.cn' }
    const body = contactPayload({ ...original, title: '总监', email: '' }, original, true)
    expect(body).toEqual({ title: '总监', email: null })
  })
})

describe('quote lines', () => {
  it('computes quantity × price × (1 − discount)', () => {
    expect(lineTotal('2', '1000.00', '10')).toBe(1800)
    expect(lineTotal(3, '33.33')).toBe(99.99)
    expect(lineTotal('1', '100', '')).toBe(100)
  })
  it('gives null for hidden prices and bad input', () => {
    expect(lineTotal('1', undefined)).toBeNull()
    expect(lineTotal('x', '10')).toBeNull()
    expect(lineTotal('1', '10', '120')).toBeNull()
  })
  it('finds the current stage', () => {
    expect(stageIndex([{ id: 4 }, { id: 9 }], 9)).toBe(1)
    expect(stageIndex([{ id: 4 }], 5)).toBe(-1)
  })
})

describe('contract payments', () => {
  it('computes the received share, null when amounts are hidden', () => {
    expect(receivedPercent('150100.00', '45030.00')).toBe(30)
    expect(receivedPercent(undefined, '1')).toBeNull()
    expect(receivedPercent('0', '0')).toBeNull()
    expect(receivedPercent('100', '250')).toBe(100)
  })
  it('classifies plan instalments', () => {
    const today = '2026-11-25'
    expect(planStatus({ id: 1, due_date: '2026-11-01', amount: '10', received: '10' }, today)).toBe('paid')
    expect(planStatus({ id: 1, due_date: '2026-11-01', amount: '10', received: '2' }, today)).toBe('overdue')
    expect(planStatus({ id: 1, due_date: '2027-01-01', amount: '10', received: '2' }, today)).toBe('partial')
    expect(planStatus({ id: 1, due_date: '2027-01-01', amount: '10', received: '0' }, today)).toBe('pending')
    expect(planStatus({ id: 1, due_date: '2027-01-01' }, today)).toBe('unknown')
  })
})

describe('approval actions', () => {
  const base = { status: 'pending', can_decide: false, actions: [] as string[], applicant: { id: 3 } }
  it('lets a decider approve or reject when the API lists no actions', () => {
    expect(availableActions({ ...base, can_decide: true }, 6)).toEqual(['approve', 'reject'])
  })
  it('lets the applicant withdraw', () => {
    expect(availableActions(base, 3)).toEqual(['withdraw'])
    expect(availableActions(base, 4)).toEqual([])
  })
  it('follows the API list when it is given, and offers nothing once decided', () => {
    expect(availableActions({ ...base, actions: ['reject'] }, 3)).toEqual(['reject'])
    expect(availableActions({ ...base, status: 'approved', can_decide: true }, 3)).toEqual([])
    expect(statusType('approved')).toBe('success')
    expect(statusType('pending')).toBe('warning')
  })
})
