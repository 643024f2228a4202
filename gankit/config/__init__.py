"""Typed configuration: nested dataclasses, YAML files, dotted ``key=value`` overrides.

* schema.py    the dataclasses; each key's default, help and resume policy; ``describe_keys``
* load.py      presets, YAML, dotted overrides, type coercion, dump
* validate.py  range checks; names checked against the registries, whose entries check their settings
* resume.py    the keys a resume must keep: ``fingerprint``, ``locked_changes``

This package must not import torch: ``gankit --help``/``presets`` stay fast. The registries it
checks names against (gankit.losses, gankit.models, gankit.data) are torch-free for that reason;
they import ``gankit.config.schema`` (not this package face) for the section types.
"""

from gankit.config.load import apply_overrides, dump, from_dict, load, merge_dict, read_yaml
from gankit.config.resume import fingerprint, free_keys, locked_changes, locked_keys
from gankit.config.schema import (
    AUGMENTATIONS,
    FREE,
    LOCKED,
    SCHEMA_VERSION,
    Activation,
    AugmentConfig,
    ConditionalConfig,
    Config,
    DataConfig,
    DiscriminatorConfig,
    EMAConfig,
    EvalConfig,
    GeneratorConfig,
    LogConfig,
    Norm,
    OutputActivation,
    PenaltyConfig,
    Precision,
    TrainConfig,
    all_keys,
    describe_keys,
    keys_text,
    key_help,
    parse_policy,
    resume_policy,
    to_dict,
)
from gankit.config.validate import validate

__all__ = [
    "AUGMENTATIONS", "FREE", "LOCKED", "SCHEMA_VERSION", "Activation", "AugmentConfig", "ConditionalConfig",
    "Config", "DataConfig", "DiscriminatorConfig", "EMAConfig", "EvalConfig", "GeneratorConfig", "LogConfig",
    "Norm", "OutputActivation", "PenaltyConfig", "Precision", "TrainConfig", "all_keys", "apply_overrides",
    "describe_keys", "keys_text", "dump", "fingerprint", "free_keys", "from_dict", "key_help", "load", "locked_changes",
    "locked_keys", "merge_dict", "parse_policy", "read_yaml", "resume_policy", "to_dict", "validate",
]
