#!/usr/bin/env bash
# Reproduces the shipped model files and the evaluation table, from the repository root:
#   training/reproduce-models.sh
# Timings on the 2-core development machine: base ~55 min, each adapter ~3 min, evaluation ~2 min.
set -euo pipefail
cd "$(dirname "$0")/.."

# 1. The base model, from scratch, on 300 base document types (seed 7).
./docstream train base --steps 4000 --batch 32 --lr 0.0025 --warmup 300 --types 300 --seed 7 --out models/base

# 2. The shipped adapters: rank 16 on every linear layer, one per held-out type (seed 11).
./docstream train ship --base models/base --types 8 --rank 16 --steps 200 --seed 11 --out models/adapters

# 3. The comparison runs (not shipped): other ranks and full fine-tuning, same steps and seed.
./docstream train sweep --base models/base --types "${SWEEP_TYPES:-GBR-PASSPORT-2000}" --ranks 8,32,64 \
  --full true --steps 200 --seed 11 --runs work/sweep

# 4. The table: base alone, shipped adapters and sweep runs on 200 fixed documents per type (seed 99).
./docstream train evaluate --base models/base --adapters models/adapters --runs work/sweep --types 8 \
  --ranks 8,32,64 --docs 200 --seed 99 --out docs/evaluation
