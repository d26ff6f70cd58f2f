"""The demo's configurations: --quick (the test's smoke run), the default
grid, and --full (every augmentation mode, 3 seeds). Everything that shapes
the reference models goes into their cache key (reference_key)."""

import dataclasses
import hashlib
import json

MODES_ALL = ("none", "random", "large", "small", "contrast", "position")


@dataclasses.dataclass(frozen=True)
class ModelShape:
    hidden_size: int
    layers: int
    heads: int
    intermediate_size: int


@dataclasses.dataclass(frozen=True)
class DemoConfig:
    preset: str
    # Data: the evaluated people (new to every model), the reference
    # population the reference models are pretrained on (disjoint names), and
    # the few-shot pool (reference people, so the models know them, as the
    # paper's famous people).
    eval_people: int
    reference_people: int
    reference_bios_per_person: int
    reference_qa_fraction: float
    fullname: bool
    fewshot_people: int
    data_seed: int
    # Reference models (Llama architecture, from scratch).
    large: ModelShape
    small: ModelShape
    pretrain_epochs: int
    pretrain_lr: float
    pretrain_batch: int
    # The experiment: the small reference model continually pretrained on the
    # evaluated people's biographies under each mode.
    modes: tuple
    seeds: tuple
    epochs: int
    learning_rate: float
    batch_size: int
    copies: int
    alpha: float
    beta: float
    shots: int
    form: str = "blank"  # augmentation.form: blank (the paper's code) or delete
    max_new_tokens: int = 10
    max_seq_len: int = 160
    # Samples per trainer rank in the seeded shuffle buffer (TrainingSpec.
    # shuffle_buffer): the experiment's jobs and the reference pretraining.
    shuffle_buffer: int = 256
    pretrain_shuffle_buffer: int = 4096
    world_size: int = 2

    def reference_key(self, data_key: str) -> str:
        """Hash of everything the reference models depend on."""
        fields = {k: v for k, v in dataclasses.asdict(self).items()
                  if k in ("reference_people", "reference_bios_per_person",
                           "reference_qa_fraction", "fullname", "data_seed", "large",
                           "small", "pretrain_epochs", "pretrain_lr", "pretrain_batch",
                           "pretrain_shuffle_buffer",
                           "max_seq_len")}
        fields["data"] = data_key
        fields["format"] = 3  # bump when the tokenizer or pretraining recipe changes
        blob = json.dumps(fields, sort_keys=True).encode()
        return hashlib.sha256(blob).hexdigest()[:16]


SMALL = ModelShape(hidden_size=128, layers=3, heads=4, intermediate_size=352)
LARGE = ModelShape(hidden_size=192, layers=4, heads=6, intermediate_size=512)

PRESETS = {
    "quick": DemoConfig(
        preset="quick", eval_people=16, reference_people=48, reference_bios_per_person=2,
        reference_qa_fraction=0.5, fullname=True,
        fewshot_people=8, data_seed=1,
        large=ModelShape(96, 2, 4, 256), small=ModelShape(48, 2, 2, 128),
        pretrain_epochs=10, pretrain_lr=5e-3, pretrain_batch=8,
        modes=MODES_ALL, seeds=(1,), epochs=3, learning_rate=2e-3, batch_size=8, copies=2,
        alpha=0.7, beta=0.05, shots=0, max_new_tokens=6),
    "default": DemoConfig(
        preset="default", eval_people=100, reference_people=200, reference_bios_per_person=3,
        reference_qa_fraction=0.5, fullname=True,
        fewshot_people=20, data_seed=1, large=LARGE, small=SMALL,
        pretrain_epochs=40, pretrain_lr=3e-3, pretrain_batch=16,
        modes=("none", "random", "contrast"), seeds=(1, 2), epochs=20, learning_rate=5e-4,
        batch_size=16, copies=5, alpha=0.7, beta=0.05, shots=0),
}
PRESETS["full"] = dataclasses.replace(PRESETS["default"], preset="full", modes=MODES_ALL,
                                      seeds=(1, 2, 3))
