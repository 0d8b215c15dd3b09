"""Events out: what changed in the hub, signed and sent to the URLs staff subscribe.

- `emit` writes events in the caller's transaction, and only the types some active subscription
  wants (`wanted`): with none, emitting costs a set lookup. A change that rolls back emits nothing.
- `delivery` fans each event out to its subscriptions and sends it, retrying on the Standard
  Webhooks schedule; every attempt is kept.
- `network` refuses addresses inside the network (server-side request forgery) on save and again
  when sending, connected to the very address it checked.
"""
