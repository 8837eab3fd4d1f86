import { onBeforeUnmount, onMounted, ref } from 'vue'

export const MOBILE_MAX = 768

/** `isMobile` is true below 768 px (phones); follows window resizes. */
export function useViewport() {
  const width = ref(typeof window !== 'undefined' ? window.innerWidth : 1024)
  const isMobile = ref(width.value < MOBILE_MAX)
  const update = () => {
    width.value = window.innerWidth
    isMobile.value = width.value < MOBILE_MAX
  }
  onMounted(() => {
    update()
    window.addEventListener('resize', update)
  })
  onBeforeUnmount(() => window.removeEventListener('resize', update))
  return { width, isMobile }
}
