import { createApp } from 'vue'
import { createPinia } from 'pinia'
import App from './App.vue'
import { router } from './router'
import { i18n, setLocale, storedLocale } from './i18n'
import { onAuthLost } from './api/http'
import { useAuthStore } from './stores/auth'
import './styles.css'

const app = createApp(App)
const pinia = createPinia()
app.use(pinia)
app.use(i18n)
app.use(router)
setLocale(storedLocale(), false)

onAuthLost(() => {
  useAuthStore(pinia).me = null
  const current = router.currentRoute.value
  if (current.name !== 'login') {
    void router.push({ name: 'login', query: { redirect: current.fullPath } })
  }
})

router.afterEach((to) => {
  const key = typeof to.meta.title === 'string' ? to.meta.title : null
  document.title = key ? `${i18n.global.t(key)} · Kith` : 'Kith'
})

app.mount('#app')
