import { afterEach, describe, expect, it, vi } from 'vitest'
import { defineComponent, h } from 'vue'
import SettingsList from '@/views/settings/SettingsList.vue'
import TagsView from '@/views/settings/TagsView.vue'
import { fieldChoices } from '@/views/settings/fieldCatalog'
import { mockFetch, mountWith, settle, until } from './helpers'

// Element Plus dialogs mount slowly on a busy machine.
vi.setConfig({ testTimeout: 20000 })

afterEach(() => {
  document.body.innerHTML = ''
})

const admin = { permissions: { tag: ['read', 'create', 'update', 'delete'] } as never }
const tags = { items: [{ id: 1, name: '重点客户', color: '#F56C6C', version: 2 }], next_cursor: null }

describe('SettingsList', () => {
  it('renders toolbar, load error, list and a dialog whose save button emits save', async () => {
    mockFetch(() => [200, {}])
    const Host = defineComponent({
      emits: ['save'],
      setup(_, { emit }) {
        return () =>
          h(
            SettingsList,
            { testid: 'x', loadError: '加载失败', open: true, dialogTitle: '新建', formError: '名称重复', saveTestid: 'x-save', onSave: () => emit('save') },
            { toolbar: () => h('button', { class: 'tb' }, 'tb'), default: () => h('p', { class: 'rows' }, 'rows'), form: () => h('input', { id: 'f' }) },
          )
      },
    })
    const { wrapper } = await mountWith(Host)
    await settle()
    expect(document.querySelector('[data-testid="x"] .settings-toolbar .tb')).not.toBeNull()
    expect(document.querySelector('[data-testid="x"] [role="alert"]')?.textContent).toContain('加载失败')
    expect(document.querySelector('[data-testid="x"] .rows')).not.toBeNull()
    expect(document.querySelector('.el-dialog #f')).not.toBeNull()
    expect(document.querySelector('.el-dialog [data-testid="form-error"]')?.textContent).toContain('名称重复')
    document.querySelector<HTMLElement>('[data-testid="x-save"]')!.click()
    await settle()
    expect(wrapper.emitted('save')).toHaveLength(1)
    wrapper.unmount()
  })
})

describe('TagsView on the shared list', () => {
  it('loads rows, refuses an empty name, creates and reloads', async () => {
    const { calls } = mockFetch((c) => (c.method === 'POST' ? [201, { id: 2, name: '新标签', color: '#409EFF', version: 1 }] : [200, tags]))
    const { wrapper } = await mountWith(TagsView, { me: admin })
    await settle()
    expect(document.querySelector('[data-testid="settings-tags"]')?.textContent).toContain('重点客户')
    ;[...document.querySelectorAll<HTMLElement>('[data-testid="settings-tags"] .settings-toolbar button')].at(0)!.click()
    await settle()
    const footer = () => [...document.querySelectorAll<HTMLElement>('.el-dialog__footer button')]
    footer().at(-1)!.click()
    await until(() => !!document.querySelector('.el-dialog .el-form-item__error'))
    expect(document.querySelector('.el-dialog')?.textContent).toContain('必填')
    expect(calls.filter((c) => c.method === 'POST')).toHaveLength(0)
    const input = document.querySelector<HTMLInputElement>('.el-dialog input')!
    input.value = '新标签'
    input.dispatchEvent(new Event('input'))
    await settle()
    footer().at(-1)!.click()
    await until(() => calls.some((c) => c.method === 'POST') && calls.filter((c) => c.method === 'GET').length >= 2)
    const post = calls.find((c) => c.method === 'POST')
    expect(post?.body).toEqual({ name: '新标签', color: '#409EFF' })
    expect(calls.filter((c) => c.method === 'GET').length).toBeGreaterThanOrEqual(2)
    wrapper.unmount()
  })

  it('edits with the version and shows the API field error next to the field', async () => {
    const { calls } = mockFetch((c) =>
      c.method === 'PATCH'
        ? [422, { error: { code: 'validation_error', message: '提交的数据有误', fields: [{ field: 'body.name', code: 'duplicate', message: '名称已存在。' }] } }]
        : [200, tags],
    )
    const { wrapper } = await mountWith(TagsView, { me: admin })
    await settle()
    const edit = [...document.querySelectorAll<HTMLElement>('[data-testid="settings-tags"] .el-table__row button')].find((b) => b.textContent?.includes('编辑'))!
    edit.click()
    await settle()
    ;[...document.querySelectorAll<HTMLElement>('.el-dialog__footer button')].at(-1)!.click()
    await until(() => !!document.querySelector('.el-dialog .el-form-item__error'))
    expect(calls.find((c) => c.method === 'PATCH')?.body).toEqual({ name: '重点客户', color: '#F56C6C', version: 2 })
    expect(document.querySelector('.el-dialog .el-form-item__error')?.textContent).toContain('名称已存在')
    wrapper.unmount()
  })
})

describe('field-rights pick-list', () => {
  it('offers built-in fields plus the module’s active custom fields', () => {
    const cfs = [
      { entity_type: 'customer', key: 'cf_region', label: '大区', label_en: 'Region', active: true },
      { entity_type: 'customer', key: 'cf_old', label: '旧字段', active: false },
      { entity_type: 'contact', key: 'cf_hobby', label: '爱好' },
    ]
    const c = fieldChoices('customer', cfs)
    expect(c.map((x) => x.field)).toContain('phone')
    expect(c.find((x) => x.field === 'cf_region')?.custom?.label_en).toBe('Region')
    expect(c.some((x) => x.field === 'cf_old' || x.field === 'cf_hobby')).toBe(false)
    expect(fieldChoices('contract', cfs).map((x) => x.field)).toContain('amount')
    expect(fieldChoices('payment', []).map((x) => x.field)).toEqual(['amount', 'received_on', 'method', 'note'])
    expect(fieldChoices('product', cfs)).toEqual([])
  })
})
