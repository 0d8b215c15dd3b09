"""A mypy plugin: calling a factory_boy factory gives its model, as it does at run time.

`RewardFactory(...)` runs the factory's metaclass `__call__`, which returns a `Reward`; mypy does
not follow a metaclass `__call__` and would type the result as a `RewardFactory`. The model is
the factory's type argument (`DjangoModelFactory[Reward]`), which `RewardFactory.create()`
already returns; this gives the shorter call the same type.
"""

from __future__ import annotations

from collections.abc import Callable

from mypy.maptype import map_instance_to_supertype
from mypy.nodes import TypeInfo
from mypy.plugin import FunctionContext, Plugin
from mypy.types import Instance, ProperType, Type, get_proper_type

BASE_FACTORY = "factory.base.BaseFactory"


def _model_of_factory(ctx: FunctionContext) -> Type:
    made: ProperType = get_proper_type(ctx.default_return_type)
    if not isinstance(made, Instance):
        return ctx.default_return_type
    base = next((info for info in made.type.mro if info.fullname == BASE_FACTORY), None)
    if base is None:
        return ctx.default_return_type
    (model,) = map_instance_to_supertype(made, base).args
    return model


class FactoryCallPlugin(Plugin):
    def get_function_hook(self, fullname: str) -> Callable[[FunctionContext], Type] | None:
        symbol = self.lookup_fully_qualified(fullname)
        if symbol and isinstance(symbol.node, TypeInfo) and symbol.node.has_base(BASE_FACTORY):
            return _model_of_factory
        return None


def plugin(version: str) -> type[Plugin]:
    return FactoryCallPlugin
