"""Every order of the smoothed n-gram on one split (docs/recipe.md): what a counting model reaches, and where.

    python bench/ngram_orders.py ARCHIVE [data.* settings as key=value ...]

e.g. `python bench/ngram_orders.py mozart_sonatas.tar.gz split_by=piece transpose=6`. The n-gram is counted on
the training side of the data module's split (seed 0 unless seed= is given) and scored, for orders 1 to 8, on
every window of its test split: the next token after each window, as the network's test pass scores it.
"""

import sys
import time
from pathlib import Path

from hydra import compose, initialize_config_dir

from mozart_lstm.baselines.ngram import NGramModel
from mozart_lstm.config import instantiate

CONF_DIR = Path(__file__).resolve().parents[1] / "conf"


def main(archive: str, *settings: str) -> None:
    started = time.perf_counter()
    # the training run's data settings (conf/data), with these changed
    with initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3"):
        cfg = compose("train", [f"data.archive={archive}", *(f"data.{setting}" for setting in settings)])
    datamodule = instantiate(cfg.data, "data")
    datamodule.setup()
    model = NGramModel(len(datamodule.vocab), max_order=8).fit(datamodule.ngram_sequences())
    scores = model.scores(*datamodule.test_set.tensors())
    print(f"{' '.join(settings) or 'defaults'}: {len(datamodule.vocab)} tokens, {time.perf_counter() - started:.1f} s")
    print("| order | NLL | accuracy | top-5 |\n|---|---|---|---|")
    for order, score in scores.items():
        print(f"| {order} | {score['loss']:.3f} | {score['acc']:.3f} | {score['acc_top5']:.3f} |")


if __name__ == "__main__":
    main(*sys.argv[1:])
