// Live updates from the server's WebSocket EventHub (/api/v1/ws).
//
//   const stop = subscribeLive(['dispatch'], (topic, data) => { ... })
//   onUnmounted(stop)
//
// Events carry ids only; pages re-read through the scoped API. The socket
// reconnects with a growing delay (the server may restart); onState reports
// 'open' / 'closed' for a "live" badge. The server sends {resync: true} when
// events may have been lost (its link to the other servers was down): onResync
// then re-reads everything the page shows. The server sends a client only the
// events about records in its data scope.
export function subscribeLive(topics, onEvent, { onState, onResync } = {}) {
  let ws = null
  let stopped = false
  let delay = 500
  let timer = null

  function connect() {
    if (stopped) return
    const proto = location.protocol === 'https:' ? 'wss:' : 'ws:'
    ws = new WebSocket(`${proto}//${location.host}/api/v1/ws`)
    ws.onopen = () => {
      delay = 500
      ws.send(JSON.stringify({ subscribe: topics }))
    }
    ws.onmessage = (m) => {
      let msg
      try {
        msg = JSON.parse(m.data)
      } catch {
        return
      }
      if (msg && msg.subscribed) {
        if (onState) onState('open')
        return
      }
      if (msg && msg.resync) {
        if (onResync) onResync(msg.reason)
        return
      }
      if (msg && msg.topic) onEvent(msg.topic, msg.data)
    }
    ws.onclose = () => {
      if (onState) onState('closed')
      if (stopped) return
      timer = setTimeout(connect, delay)
      delay = Math.min(delay * 2, 15000)
    }
    ws.onerror = () => {
      try {
        ws.close()
      } catch {
        /* closing anyway */
      }
    }
  }
  connect()
  return () => {
    stopped = true
    clearTimeout(timer)
    if (ws) ws.close()
  }
}
