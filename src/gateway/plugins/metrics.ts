import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import fp from 'fastify-plugin'

/**
 * GET /metrics for Prometheus on a listener of its own (config `metrics`, loopback by default):
 * apart from the API that partners reach, so that what the gateway counts — types, error codes,
 * participant ids, queue states; never personal data — is seen by the monitoring network only.
 */
export const metricsServerPlugin = fp(async (app) => {
  const { config, metrics, logger } = app.tb
  if (!config.metrics.enabled) return
  const server = createServer((req, res) => {
    if (req.method !== 'GET' || (req.url ?? '').split('?')[0] !== '/metrics') {
      res.writeHead(404).end()
      return
    }
    metrics.registry.metrics().then(
      (text) => res.writeHead(200, { 'content-type': metrics.registry.contentType }).end(text),
      () => res.writeHead(500).end(),
    )
  })
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(config.metrics.port, config.metrics.host, () => resolve())
  })
  const address = server.address() as AddressInfo
  app.tb.metricsUrl = `http://${config.metrics.host}:${address.port}/metrics`
  logger.info({ metrics: app.tb.metricsUrl }, 'metrics listening')
  app.addHook('onClose', async () => {
    await new Promise<void>((r) => { server.closeAllConnections(); server.close(() => r()) })
  })
}, { name: 'tongban-metrics', dependencies: ['tongban-db'] })
