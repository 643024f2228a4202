"""Config from presets, YAML files and dotted ``key=value`` overrides; typed coercion; YAML dump.

Design (nanoGPT's checks, timm's args.yaml): every key has a type and a default; a YAML file or a
preset gives a starting point; ``train.epochs=3 generator.hidden=[256,256] loss=mse`` on the
command line overrides single keys; unknown keys and wrong types are refused with a message that
names the key and the fix (ranges and registered names: validate.py). The resolved config is
written to the run folder.
"""

from __future__ import annotations

import dataclasses
import re
import types
from pathlib import Path
from typing import Any, Literal, Union, get_args, get_origin

import yaml

from gankit.config.schema import SCHEMA_VERSION, Config, all_keys, hints, to_dict
from gankit.config.validate import validate
from gankit.errors import GankitError, did_you_mean


class _Loader(yaml.SafeLoader):
    """YAML 1.2-style booleans: only true/false, so ``log.progress=off`` stays the string "off"."""


_Loader.yaml_implicit_resolvers = {
    k: [(tag, rx) for tag, rx in v if tag != "tag:yaml.org,2002:bool"]
    for k, v in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)


def _safe_load(text: str):
    return yaml.load(text, Loader=_Loader)  # noqa: S506 - _Loader is a SafeLoader subclass


# --------------------------------------------------------------------------- type handling


def _type_name(tp: Any) -> str:
    origin = get_origin(tp)
    if origin is Literal:
        return "one of " + ", ".join(repr(a) for a in get_args(tp))
    if origin in (Union, types.UnionType):
        args = [a for a in get_args(tp) if a is not type(None)]
        return " or ".join(_type_name(a) for a in args) + " or null"
    if origin is list:
        inner = get_args(tp)[0]
        return "a list of " + {int: "integers", float: "numbers", str: "strings"}.get(inner, _type_name(inner))
    if origin is tuple:
        return f"a list of {len(get_args(tp))} numbers"
    if origin is dict:
        return "a mapping such as {name: value, other: value}"
    return {int: "an integer", float: "a number", bool: "true or false", str: "a string"}.get(
        tp, str(tp)
    )


_NO = object()


def _coerce_union(value: Any, tp: Any) -> Any:
    args = get_args(tp)
    if value is None or (isinstance(value, str) and value.lower() in ("null", "none")):
        return None if type(None) in args else _NO
    for a in args:
        if a is type(None):
            continue
        out = _coerce(value, a)
        if out is not _NO:
            return out
    return _NO


def _coerce_sequence(value: Any, tp: Any) -> Any:
    if not isinstance(value, (list, tuple)):
        return _NO
    if get_origin(tp) is list:
        (inner,) = get_args(tp)
        out = [_coerce(v, inner) for v in value]
    else:
        inner = get_args(tp)
        if len(value) != len(inner):
            return _NO
        out = tuple(_coerce(v, t) for v, t in zip(value, inner))
    return _NO if any(o is _NO for o in out) else out


def _coerce_float(value: Any) -> Any:
    if isinstance(value, bool):
        return _NO
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, str):  # YAML 1.1 reads "1e-3" (no dot) as a string
        try:
            return float(value)
        except ValueError:
            return _NO
    return _NO


def _coerce(value: Any, tp: Any) -> Any:
    """Return ``value`` converted to ``tp``, or ``_NO`` when it does not fit."""
    origin = get_origin(tp)
    if origin in (Union, types.UnionType):
        return _coerce_union(value, tp)
    if origin is Literal:
        return value if value in get_args(tp) else _NO
    if origin in (list, tuple):
        return _coerce_sequence(value, tp)
    if origin is dict:  # {name: text}: keys and values as text (a column named 2020 is "2020")
        if not isinstance(value, dict) or any(isinstance(v, (dict, list)) or v is None for v in value.values()):
            return _NO
        return {str(k): str(v) for k, v in value.items()}
    if tp is bool:
        return value if isinstance(value, bool) else _NO
    if tp is int:
        return value if isinstance(value, int) and not isinstance(value, bool) else _NO
    if tp is float:
        return _coerce_float(value)
    if tp is str:
        if isinstance(value, (dict, list)) or value is None:
            return _NO
        return value if isinstance(value, str) else str(value)
    return _NO


def _parse_scalar(text: str) -> Any:
    """Parse the right-hand side of ``key=value`` as YAML (so ``[256,256]``, ``1e-3``, ``true`` work)."""
    try:
        return _safe_load(text) if text.strip() else ""
    except yaml.YAMLError:
        return text


# --------------------------------------------------------------------------- messages


def _suggest_key(dotted: str, so_far: str, here: list[str]) -> str:
    """' (did you mean "train.steps"?)' for an unknown key: the full keys that end like it (``steps``,
    ``trian.steps``), else the closest full key (``train.stpes``), else the closest name at the level
    where it went wrong (``so_far`` among ``here``)."""
    leaf = dotted.rsplit(".", 1)[-1]
    same_leaf = [k for k in all_keys() if k.rsplit(".", 1)[-1] == leaf]
    if same_leaf:
        return " (did you mean " + " or ".join(f'"{k}"' for k in same_leaf[:3]) + "?)"
    return did_you_mean(dotted, all_keys()) or did_you_mean(so_far, here)


def _list_example(dotted: str, value: Any, tp: Any, source: str) -> str:
    """'; give a list, e.g. generator.hidden=[256,256]' when a list key got ``256,256`` or ``256``."""
    origin = get_origin(tp)
    if origin in (Union, types.UnionType):
        lists = [a for a in get_args(tp) if get_origin(a) in (list, tuple)]
        return _list_example(dotted, value, lists[0], source) if lists else ""
    if origin not in (list, tuple) or isinstance(value, (list, tuple, dict)) or value is None:
        return ""
    parts = [p.strip() for p in str(value).split(",")]
    items = [_parse_scalar(p) for p in parts]
    if _coerce_sequence(items, tp) is _NO:
        return ""
    example = f"{dotted}=[{','.join(parts)}]" if source == "command line" else f"[{', '.join(parts)}]"
    return f"; give a list in brackets, e.g. {example}"


# --------------------------------------------------------------------------- set / merge


def _set(cfg: Config, dotted: str, value: Any, *, source: str) -> None:
    parts = dotted.split(".")
    obj: Any = cfg
    for i, part in enumerate(parts):
        fields = {f.name: f for f in dataclasses.fields(obj)}
        if part not in fields:
            prefix = ".".join(parts[:i])
            names = [f"{prefix}.{n}" if prefix else n for n in fields]
            raise GankitError(
                f"{source}: unknown config key {dotted!r}{_suggest_key(dotted, '.'.join(parts[: i + 1]), names)}; "
                f"valid keys here: {', '.join(names)}"
            )
        tp = hints(type(obj))[part]
        is_section = dataclasses.is_dataclass(tp)
        if i < len(parts) - 1:
            if not is_section:
                raise GankitError(f"{source}: {'.'.join(parts[: i + 1])!r} is not a section")
            obj = getattr(obj, part)
            continue
        if is_section:
            if not isinstance(value, dict):
                raise GankitError(
                    f"{source}: {dotted!r} is a section; give a mapping or set its keys "
                    f"like {dotted}.{dataclasses.fields(tp)[0].name}=..."
                )
            for k, v in value.items():
                _set(cfg, f"{dotted}.{k}", v, source=source)
            return
        out = _coerce(value, tp)
        if out is _NO:
            raise GankitError(f"{source}: {dotted} must be {_type_name(tp)}, got {value!r}"
                              f"{_list_example(dotted, value, tp, source)}")
        setattr(obj, part, out)
        # train.steps and train.epochs are two ways to say how long: setting one clears the other.
        if dotted == "train.steps" and out is not None:
            cfg.train.epochs = None
        elif dotted == "train.epochs" and out is not None:
            cfg.train.steps = None


def merge_dict(cfg: Config, data: dict, *, source: str) -> Config:
    if not isinstance(data, dict):
        raise GankitError(f"{source}: expected a mapping of config keys, got {type(data).__name__}")
    for key, value in data.items():
        if key == "version":
            if not isinstance(value, int) or value > SCHEMA_VERSION:
                raise GankitError(
                    f"{source}: config version {value!r} is from a newer gankit "
                    f"(this one reads version {SCHEMA_VERSION}); upgrade gankit"
                )
            continue
        _set(cfg, str(key), value, source=source)
    return cfg


def apply_overrides(cfg: Config, overrides: list[str]) -> Config:
    """Apply ``key=value`` strings such as ``train.epochs=3`` or ``generator.hidden=[256,256]``."""
    for item in overrides:
        key, sep, text = item.partition("=")
        if not sep or not key.strip():
            raise GankitError(f"override {item!r} is not of the form key=value (e.g. train.epochs=3)")
        if key.strip() == "version":  # the schema version of files, not a setting
            raise GankitError("command line: 'version' is the config file format, set by gankit; remove it")
        _set(cfg, key.strip(), _parse_scalar(text), source="command line")
    return cfg


# --------------------------------------------------------------------------- load / dump


def read_yaml(path: str | Path) -> dict:
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise GankitError(f"{p}: no such file") from None
    except IsADirectoryError:
        raise GankitError(f"{p}: is a folder, expected a YAML config file") from None
    except (OSError, UnicodeDecodeError) as e:
        raise GankitError(f"{p}: cannot read ({e})") from None
    try:
        data = _safe_load(text)
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark else ""
        raise GankitError(f"{p}: not valid YAML{where}; check indentation and colons") from None
    return {} if data is None else data


def _merge_file(cfg: Config, source: str) -> None:
    """A YAML config file, on top of the preset it names (``preset: mnist-mlp``), if any."""
    from gankit.presets import PRESETS, preset_dict

    data = read_yaml(source)
    if not isinstance(data, dict):
        raise GankitError(f"{source}: expected a mapping of config keys at the top level")
    base = data.get("preset")
    if base is not None:
        if base not in PRESETS:
            raise GankitError(
                f"{source}: unknown preset {base!r}{did_you_mean(base, PRESETS)}; see `gankit presets`"
            )
        merge_dict(cfg, preset_dict(base), source=f"preset {base}")
    merge_dict(cfg, data, source=source)


def load(source: str | None = None, overrides: list[str] | None = None) -> Config:
    """Build a validated config from a preset name or YAML file, then dotted overrides.

    A YAML file may name ``preset: mnist-mlp`` to start from that preset.
    """
    from gankit.presets import PRESETS, preset_dict

    cfg = Config()
    if source is not None:
        if source in PRESETS:
            merge_dict(cfg, preset_dict(source), source=f"preset {source}")
            cfg.preset = source
        elif source.endswith((".yaml", ".yml")) or Path(source).is_file():
            _merge_file(cfg, source)
        else:
            raise GankitError(
                f"{source!r} is neither a preset nor a YAML file{did_you_mean(source, PRESETS)}; "
                f"presets: {', '.join(PRESETS)}"
            )
    apply_overrides(cfg, overrides or [])
    validate(cfg)
    from gankit.config.resolve import resolve

    return resolve(cfg)  # data.path means the user's data: the data set and image size it implies


def dump(cfg: Config) -> str:
    return yaml.safe_dump(to_dict(cfg), sort_keys=False)


def from_dict(data: dict, *, source: str = "config") -> Config:
    cfg = merge_dict(Config(), data, source=source)
    return validate(cfg)
