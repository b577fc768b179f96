#!/usr/bin/env bash
# The GPU check, one script for a machine with CUDA: the tests that use the device, the training
# speed bench and the shipped digits recipe, on CUDA. Logs (and the trained file) go to $OUT.
#   OUT=/tmp/cuda-check bash bench/cuda_check.sh DATA_DIR
set -uo pipefail
data=${1:-${CLASSIFIER_DATA_DIR:-data}}
out=${OUT:-/tmp/cuda-check}
mkdir -p "$out"
export PYTHONUNBUFFERED=1 CLASSIFIER_DATA_DIR="$data"
py=${PYTHON:-python3}
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv | tee "$out/gpu.txt"
$py -c "import torch; print('torch', torch.__version__, torch.cuda.get_device_name())" | tee -a "$out/gpu.txt"
timeout 200 $py -m pytest -q -p no:cacheprovider tests/test_trainer.py tests/test_augment.py tests/test_model.py \
    2>&1 | tee "$out/pytest.log" | tail -25
timeout 200 $py train.py digits --device cuda --data-dir "$data" --output "$out/digits-cuda.safetensors" \
    --no-progress 2>&1 | tee "$out/train_digits.log" | tail -8
timeout 200 $py -m bench.train_speed --data-dir "$data" --device cuda 2>&1 | tee "$out/train_speed.log"
