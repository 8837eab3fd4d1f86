import { createRouter, createWebHistory, type RouteRecordRaw } from 'vue-router'
import { tokens } from '@/api/tokens'
import { useAuthStore } from '@/stores/auth'

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
      { path: '', redirect: { name: 'customers' } },
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
        path: 'dashboard',
        name: 'dashboard',
        component: () => import('@/views/dashboard/DashboardView.vue'),
        meta: { title: 'nav.dashboard' },
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
  return true
})
