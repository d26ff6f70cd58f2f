"""The demo's configurations: --quick (the test's smoke run), the default
grid, and --full (every augmentation mode, the seeds a power estimate asks
for). Everything that shapes the reference models goes into their cache key
(reference_key). docs/demo.md gives the reasons for every number here."""

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
    # evaluated people's biographies under each mode. `epochs` is mode none's.
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
    # Epochs of the dropout modes: random, and the ranked modes (large,
    # small, contrast, position). None: about the steps of mode none
    # (epochs / (copies + 1)). The presets' values were tuned per mode on
    # the tuning people (docs/demo.md, "Design").
    random_epochs: int | None = None
    ranked_epochs: int | None = None
    # Their learning rates (None: `learning_rate`, mode none's).
    random_lr: float | None = None
    ranked_lr: float | None = None
    # People like the evaluated ones (one biography each, new to every
    # model) on whom epochs and learning rate are tuned (`--tune`); the
    # evaluated people are never used for that.
    tune_people: int = 100
    # Numerics: "pinned" (ATen kernels and thread counts fixed, MKL native)
    # or "portable" (also MKL's COMPATIBLE branch): numerics.py.
    numerics: str = "pinned"

    def epochs_for(self, mode: str) -> int:
        """Training epochs of a run of `mode`."""
        if mode == "none":
            return self.epochs
        chosen = self.random_epochs if mode == "random" else self.ranked_epochs
        if chosen is not None:
            return chosen
        return max(1, round(self.epochs / (self.copies + 1)))

    def lr_for(self, mode: str) -> float:
        """Peak learning rate of a run of `mode`."""
        chosen = None if mode == "none" else self.random_lr if mode == "random" else self.ranked_lr
        return self.learning_rate if chosen is None else chosen

    def with_schedule(self, epochs: int | None = None, learning_rate: float | None = None,
                      dropout_epochs: int | None = None) -> "DemoConfig":
        """Overrides for every mode: `epochs` and `learning_rate` for all
        six, then `dropout_epochs` for the dropout modes."""
        config = self
        if epochs is not None:
            config = dataclasses.replace(config, epochs=epochs, random_epochs=epochs,
                                         ranked_epochs=epochs)
        if learning_rate is not None:
            config = dataclasses.replace(config, learning_rate=learning_rate,
                                         random_lr=learning_rate, ranked_lr=learning_rate)
        if dropout_epochs is not None:
            config = dataclasses.replace(config, random_epochs=dropout_epochs,
                                         ranked_epochs=dropout_epochs)
        return config

    def reference_key(self, data_key: str) -> str:
        """Hash of everything the reference models depend on."""
        fields = {k: v for k, v in dataclasses.asdict(self).items()
                  if k in ("reference_people", "reference_bios_per_person",
                           "reference_qa_fraction", "fullname", "data_seed", "large",
                           "small", "pretrain_epochs", "pretrain_lr", "pretrain_batch",
                           "pretrain_shuffle_buffer",
                           "max_seq_len", "numerics")}
        fields["data"] = data_key
        fields["format"] = 3  # bump when the tokenizer or pretraining recipe changes
        blob = json.dumps(fields, sort_keys=True).encode()
        return hashlib.sha256(blob).hexdigest()[:16]


# Measured on the 2-core development VM (Intel Xeon, docs/demo.md "Wall
# times"), for the up-front estimate: seconds per training epoch of 100
# people (mode none; a dropout mode's epoch is copies + 1 times longer), per
# job besides training (scoring, evaluation, start-up), for pretraining both
# reference models of the default shapes, and for the rest (baselines, clues).
SECONDS_PER_EPOCH_100 = 0.33
SECONDS_PER_JOB = 7.0
SECONDS_PRETRAIN = 465.0
SECONDS_FIXED = 40.0


def estimate_seconds(config: "DemoConfig", people: int, cached: bool) -> float:
    """A rough wall-time estimate of a demo run on a 2-core machine."""
    total = SECONDS_FIXED + (0 if cached else SECONDS_PRETRAIN)
    for mode in config.modes:
        per_epoch = SECONDS_PER_EPOCH_100 * people / 100 * (1 if mode == "none" else
                                                             config.copies + 1)
        total += len(config.seeds) * (SECONDS_PER_JOB + config.epochs_for(mode) * per_epoch)
    return total


SMALL = ModelShape(hidden_size=128, layers=3, heads=4, intermediate_size=352)
LARGE = ModelShape(hidden_size=192, layers=4, heads=6, intermediate_size=512)

PRESETS = {
    "quick": DemoConfig(
        preset="quick", eval_people=16, reference_people=48, reference_bios_per_person=2,
        reference_qa_fraction=0.5, fullname=True,
        fewshot_people=8, data_seed=1,
        large=ModelShape(96, 2, 4, 256), small=ModelShape(48, 2, 2, 128),
        pretrain_epochs=10, pretrain_lr=5e-3, pretrain_batch=8, tune_people=16,
        modes=MODES_ALL, seeds=(1,), epochs=3, learning_rate=2e-3, batch_size=8, copies=2,
        alpha=0.7, beta=0.05, shots=0, max_new_tokens=6),
    "default": DemoConfig(
        preset="default", eval_people=100, reference_people=200, reference_bios_per_person=3,
        reference_qa_fraction=0.5, fullname=True,
        fewshot_people=20, data_seed=1, large=LARGE, small=SMALL,
        pretrain_epochs=40, pretrain_lr=3e-3, pretrain_batch=16,
        modes=("none", "random", "contrast"), seeds=(1, 2), epochs=80, learning_rate=1e-3,
        random_epochs=20, random_lr=5e-4, ranked_epochs=14, ranked_lr=1e-3,
        batch_size=16, copies=5, alpha=0.7, beta=0.05, shots=0),
}
# Seeds: the power estimate (docs/demo.md, "Power").
PRESETS["full"] = dataclasses.replace(PRESETS["default"], preset="full", modes=MODES_ALL,
                                      seeds=(1, 2, 3, 4, 5))
