"""Lets mergekit a6e4028 (which pins pydantic ~= 2.10) import under pydantic 2.13, the one on hand.

pydantic >= 2.11 reads a bare value in create_model(**fields) as a field's *type*; mergekit's
easy_define passes its task methods (execute, arguments, ...) that way and relied on 2.10 putting
them into the class namespace. This wraps create_model to put callables into a base class instead.
No merge arithmetic is touched. Import it before mergekit.
"""
import pydantic

_create_model = pydantic.create_model


def _create_model_with_methods(model_name, /, **fields):
    methods = {k: v for k, v in fields.items() if not k.startswith("__") and callable(v) and not isinstance(v, type)}
    if not methods:
        return _create_model(model_name, **fields)
    rest = {k: v for k, v in fields.items() if k not in methods}
    base = rest.pop("__base__", pydantic.BaseModel)
    with_methods = type(base)(model_name + "Methods", (base,), dict(methods, __module__=base.__module__))
    return _create_model(model_name, __base__=with_methods, **rest)


pydantic.create_model = _create_model_with_methods
