"""The route matched once: the gate (auth/middleware.Gate) resolves every request it lets through
with spec.resolve, which picks the operation as connexion's Starlette router does (the first
template in the contract's order with the path and the method); `RouteOnce`, in connexion's
routing middleware's place, hands that result on exactly as connexion would (a copy of the scope
with `path_params` and `extensions["connexion_routing"]`) instead of matching the path again.
Requests the gate did not resolve (the docs, /metrics) take connexion's router as before.
tests/test_routing.py checks that both choose the same operation and parameters for every route."""
from __future__ import annotations

from connexion.middleware.abstract import ROUTING_CONTEXT
from connexion.middleware.routing import RoutingMiddleware
from starlette.types import Receive, Scope, Send

from clinic_api.context import EXTENSION

# Set by the gate: in scope["extensions"][EXTENSION], the request's (operationId, path parameters);
# in scope["extensions"], the contract's routes matching the path, for the access log (observe.py).
ROUTE = "route"
MATCHED = "clinic.matched_routes"


class RouteOnce(RoutingMiddleware):
    def __init__(self, app) -> None:
        super().__init__(app)
        self.base_paths: list[str] = []

    def add_api(self, specification, base_path=None, arguments=None, **kwargs) -> None:
        super().add_api(specification, base_path=base_path, arguments=arguments, **kwargs)
        self.base_paths.append(base_path or "")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        routed = ((scope.get("extensions") or {}).get(EXTENSION) or {}).get(ROUTE)
        # The contract's templates are whole paths: the shortcut holds for an API mounted at "".
        if routed is None or scope["type"] != "http" or self.base_paths != [""]:
            await super().__call__(scope, receive, send)
            return
        operation_id, params = routed
        original = dict(scope)  # as connexion's scope.copy()
        original.setdefault("path_params", {}).update(params)
        original.setdefault("extensions", {}).setdefault(ROUTING_CONTEXT, {}).update(
            {"api_base_path": "", "operation_id": operation_id})
        await self.app(original, receive, send)
