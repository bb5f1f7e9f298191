"""Pruning and TFLite quantisation of a trained Keras model, scored and measured.

Model code, importable without TFX; `components/model_optimizer.py` runs it in a pipeline.

- `params`: `OptimizeParams`, what `--set optimize.KEY=VALUE` overrides.
- `data`: transformed examples as Keras batches; the int8 converter's calibration data.
- `sizes`: bytes, compressed bytes and sparsity of weights and files.
- `scoring`: accuracy or RMSE of a Keras or a TFLite model on transformed examples.
- `pruning`: tfmot magnitude pruning with fine-tuning.
- `conversion`: dynamic-range and full-int8 TFLite conversion.
- `job`: the whole run (`optimize`), its files (`save`) and its report's flat properties.
"""
