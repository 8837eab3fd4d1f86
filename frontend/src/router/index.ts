import { createRouter, createWebHistory, type RouteRecordRaw } from 'vue-router'
import { tokens } from '@/api/tokens'
import { useAuthStore } from '@/stores/auth'
import { allowedSettingsPages } from '@/views/settings/settingsNav'

/** The first settings page the caller may open (settings are for administrators). */
function firstSettingsPage() {
  const page = allowedSettingsPages(useAuthStore().can)[0]
  return page ? { name: page.name } : { name: 'customers' }
}

export const routes: RouteRecordRaw[] = [
  {
    path: '/login',
    name: 'login',
    component: () => import('@/views/auth/LoginView.vue'),
    meta: { public: true, title: 'login.title' },
  },
  {
    path: '/',
    component: () => import('@/layouts/AppLayout.vue'),
    children: [
      {
        path: '',
        name: 'home',
        component: () => import('@/views/home/HomeView.vue'),
        meta: { title: 'nav.home' },
      },
      {
        path: 'tasks',
        name: 'tasks',
        component: () => import('@/views/tasks/TasksView.vue'),
        meta: { title: 'nav.tasks' },
      },
      {
        path: 'customers',
        name: 'customers',
        component: () => import('@/views/customers/CustomerList.vue'),
        meta: { title: 'nav.customers' },
      },
      {
        path: 'customers/:id(\\d+)',
        name: 'customer',
        component: () => import('@/views/customers/CustomerDetail.vue'),
        props: true,
        meta: { title: 'nav.customers' },
      },
      {
        path: 'board',
        name: 'board',
        component: () => import('@/views/opportunities/OpportunityBoard.vue'),
        meta: { title: 'nav.board' },
      },
      {
        path: 'opportunities',
        name: 'opportunities',
        component: () => import('@/views/opportunities/OpportunityList.vue'),
        meta: { title: 'nav.opportunities' },
      },
      {
        path: 'opportunities/:id(\\d+)',
        name: 'opportunity',
        component: () => import('@/views/opportunities/OpportunityDetail.vue'),
        props: true,
        meta: { title: 'nav.opportunities' },
      },
      {
        path: 'contacts',
        name: 'contacts',
        component: () => import('@/views/contacts/ContactList.vue'),
        meta: { title: 'nav.contacts' },
      },
      {
        path: 'contacts/:id(\\d+)',
        name: 'contact',
        component: () => import('@/views/contacts/ContactDetail.vue'),
        props: true,
        meta: { title: 'nav.contacts' },
      },
      {
        path: 'contracts',
        name: 'contracts',
        component: () => import('@/views/contracts/ContractList.vue'),
        meta: { title: 'nav.contracts' },
      },
      {
        path: 'contracts/:id(\\d+)',
        name: 'contract',
        component: () => import('@/views/contracts/ContractDetail.vue'),
        props: true,
        meta: { title: 'nav.contracts' },
      },
      {
        path: 'approvals',
        name: 'approvals',
        component: () => import('@/views/approvals/ApprovalsView.vue'),
        meta: { title: 'nav.approvals' },
      },
      {
        path: 'pool',
        name: 'pool',
        component: () => import('@/views/pool/PoolView.vue'),
        meta: { title: 'nav.pool', perm: ['pool', 'read'] },
      },
      {
        path: 'imports',
        name: 'imports',
        component: () => import('@/views/imports/ImportsView.vue'),
        meta: { title: 'nav.imports' },
      },
      {
        path: 'duplicates',
        name: 'duplicates',
        component: () => import('@/views/duplicates/DuplicatesView.vue'),
        meta: { title: 'nav.duplicates', perm: ['customer', 'update'] },
      },
      {
        path: 'dashboard',
        name: 'dashboard',
        component: () => import('@/views/dashboard/DashboardView.vue'),
        meta: { title: 'nav.dashboard', perm: ['report', 'read'] },
      },
      {
        path: 'settings',
        component: () => import('@/views/settings/SettingsLayout.vue'),
        meta: { title: 'nav.admin' },
        children: [
          { path: '', name: 'settings', redirect: () => firstSettingsPage() },
          {
            path: 'users',
            name: 'settings-users',
            component: () => import('@/views/settings/UsersView.vue'),
            meta: { title: 'settings.tabs.users', perm: ['user', 'update'] },
          },
          {
            path: 'departments',
            name: 'settings-departments',
            component: () => import('@/views/settings/DepartmentsView.vue'),
            meta: { title: 'settings.tabs.departments', perm: ['department', 'update'] },
          },
          {
            path: 'roles',
            name: 'settings-roles',
            component: () => import('@/views/settings/RolesView.vue'),
            meta: { title: 'settings.tabs.roles', perm: ['role', 'update'] },
          },
          {
            path: 'roles/:id(\\d+)',
            name: 'settings-role',
            component: () => import('@/views/settings/RoleEditor.vue'),
            props: true,
            meta: { title: 'settings.tabs.roles', perm: ['role', 'update'] },
          },
          {
            path: 'custom-fields',
            name: 'settings-custom-fields',
            component: () => import('@/views/settings/CustomFieldsView.vue'),
            meta: { title: 'settings.tabs.customFields', perm: ['custom_field', 'update'] },
          },
          {
            path: 'tags',
            name: 'settings-tags',
            component: () => import('@/views/settings/TagsView.vue'),
            meta: { title: 'settings.tabs.tags', perm: ['tag', 'update'] },
          },
          {
            path: 'pipelines',
            name: 'settings-pipelines',
            component: () => import('@/views/settings/PipelinesView.vue'),
            meta: { title: 'settings.tabs.pipelines', perm: ['pipeline', 'update'] },
          },
          {
            path: 'pool-rules',
            name: 'settings-pool-rules',
            component: () => import('@/views/settings/PoolRulesView.vue'),
            meta: { title: 'settings.tabs.poolRules', perm: ['pool', 'manage'] },
          },
          {
            path: 'reminder-rules',
            name: 'settings-reminder-rules',
            component: () => import('@/views/settings/ReminderRulesView.vue'),
            meta: { title: 'settings.tabs.reminderRules', perm: ['reminder_rule', 'manage'] },
          },
          {
            path: 'handover',
            name: 'settings-handover',
            component: () => import('@/views/settings/HandoverView.vue'),
            meta: { title: 'settings.tabs.handover', perm: ['customer', 'transfer'] },
          },
          {
            path: 'imports',
            name: 'settings-imports',
            component: () => import('@/views/imports/ImportsView.vue'),
            meta: { title: 'settings.tabs.imports', perm: ['customer', 'import'] },
          },
          {
            path: 'notification-channels',
            name: 'settings-notification-channels',
            component: () => import('@/views/settings/NotificationChannelsView.vue'),
            meta: { title: 'settings.tabs.notificationChannels', perm: ['role', 'manage'] },
          },
        ],
      },
    ],
  },
  { path: '/:pathMatch(.*)*', redirect: '/' },
]

export const router = createRouter({
  history: createWebHistory(import.meta.env.BASE_URL),
  routes,
})

router.beforeEach(async (to) => {
  if (to.meta.public) return true
  if (!tokens.access && !tokens.refresh) {
    return { name: 'login', query: to.fullPath !== '/' ? { redirect: to.fullPath } : {} }
  }
  const auth = useAuthStore()
  if (!auth.me) {
    try {
      await auth.loadMe()
    } catch {
      return { name: 'login', query: { redirect: to.fullPath } }
    }
  }
  const perm = to.meta.perm as [string, string] | undefined
  if (perm && !auth.can(perm[0], perm[1])) return { name: 'customers' }
  return true
})
