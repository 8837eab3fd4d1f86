import { afterEach, describe, expect, it } from 'vitest'
import LoginView from '@/views/auth/LoginView.vue'
import { mockFetch, mountWith, settle } from './helpers'

afterEach(() => {
  document.body.innerHTML = ''
  localStorage.clear()
})

describe('LoginView', () => {
  it('requires username and password before calling the API', async () => {
    const { fn } = mockFetch(() => [200, {}])
    const { wrapper } = await mountWith(LoginView, { me: null })
    await wrapper.find('form').trigger('submit')
    await settle(150)
    expect(wrapper.text()).toContain('请输入用户名')
    expect(wrapper.text()).toContain('请输入密码')
    expect(fn).not.toHaveBeenCalled()
    wrapper.unmount()
  })

  it('labels its inputs for assistive technology', async () => {
    mockFetch(() => [200, {}])
    const { wrapper } = await mountWith(LoginView, { me: null })
    for (const id of ['login-username', 'login-password']) {
      const input = wrapper.find(`#${id}`)
      expect(input.exists()).toBe(true)
      expect(wrapper.find(`label[for="${id}"]`).exists()).toBe(true)
    }
    wrapper.unmount()
  })

  it('shows the API message on 401', async () => {
    mockFetch(() => [401, { error: { code: 'invalid_credentials', message: '用户名或密码错误。', fields: [] }, request_id: 'r' }])
    const { wrapper } = await mountWith(LoginView, { me: null })
    await wrapper.find('#login-username').setValue('rep_north')
    await wrapper.find('#login-password').setValue('wrong')
    await wrapper.find('form').trigger('submit')
    await settle(150)
    expect(wrapper.find('[data-test="login-error"]').text()).toContain('用户名或密码错误。')
    wrapper.unmount()
  })

  it('shows the lockout message on 429', async () => {
    mockFetch(() => [
      429,
      { error: { code: 'account_locked', message: '登录失败次数过多，账户已锁定，请 15 分钟后再试。', fields: [] }, request_id: 'r' },
    ])
    const { wrapper } = await mountWith(LoginView, { me: null })
    await wrapper.find('#login-username').setValue('rep_north')
    await wrapper.find('#login-password').setValue('wrong')
    await wrapper.find('form').trigger('submit')
    await settle(150)
    expect(wrapper.find('[data-test="login-error"]').text()).toContain('账户已锁定')
    wrapper.unmount()
  })

  it('stores the tokens, loads /me and leaves the login page on success', async () => {
    const { calls } = mockFetch((c) =>
      c.url.pathname === '/api/v1/auth/login'
        ? [200, { access_token: 'A', refresh_token: 'R', token_type: 'bearer', expires_in: 900 }]
        : [200, { id: 1, username: 'rep_north', display_name: '张伟', timezone: 'Asia/Shanghai', roles: [], permissions: {}, field_rights: {} }],
    )
    const { wrapper, router } = await mountWith(LoginView, { me: null })
    await router.push('/login?redirect=/board')
    await wrapper.find('#login-username').setValue('rep_north')
    await wrapper.find('#login-password').setValue('kith-demo-2026')
    await wrapper.find('form').trigger('submit')
    await settle(150)
    expect(calls.map((c) => c.url.pathname)).toEqual(['/api/v1/auth/login', '/api/v1/me'])
    expect(calls[1]?.headers.get('Authorization')).toBe('Bearer A')
    expect(localStorage.getItem('kith.refresh_token')).toBe('R')
    expect(router.currentRoute.value.path).toBe('/board')
    wrapper.unmount()
  })
})
