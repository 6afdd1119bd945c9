import { ref } from 'vue'

// Phone width: below 768px the side menu becomes a drawer, forms stack.
export const PHONE_QUERY = '(max-width: 767.98px)'

const mq = typeof window !== 'undefined' && window.matchMedia ? window.matchMedia(PHONE_QUERY) : null
const isMobile = ref(mq ? mq.matches : false)
if (mq) {
  const update = () => (isMobile.value = mq.matches)
  if (mq.addEventListener) mq.addEventListener('change', update)
  else mq.addListener(update)
}

export function useIsMobile() {
  return isMobile
}
