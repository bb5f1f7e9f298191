"""Component ids: the node names every pipeline kind gives its components.

The kinds build each component `.with_id(...)` one of these, so MLMD node contexts, progress
lines, Kubeflow executor labels and placement all use the same names.
"""

CSV_EXAMPLE_GEN = "CsvExampleGen"
IMPORT_EXAMPLE_GEN = "ImportExampleGen"
EXAMPLE_GENS = (CSV_EXAMPLE_GEN, IMPORT_EXAMPLE_GEN)
STATISTICS_GEN = "StatisticsGen"
SCHEMA_GEN = "SchemaGen"
IMPORT_SCHEMA_GEN = "ImportSchemaGen"
EXAMPLE_VALIDATOR = "ExampleValidator"
DRIFT_CHECK = "DriftCheck"
ANOMALY_GATE = "AnomalyGate"
TRANSFORM = "Transform"
TUNER = "Tuner"
TRAINER = "Trainer"
RL_TRAINER = "RLTrainer"
TRAJECTORY_GEN = "TrajectoryGen"
EVALUATOR = "Evaluator"
MODEL_GATE = "ModelGate"
POLICY_EVALUATOR = "PolicyEvaluator"
MODEL_OPTIMIZER = "ModelOptimizer"
SERVING_CHECK = "ServingCheck"
PUSHER = "Pusher"
REPORT = "Report"
BASELINE_RESOLVER = "baseline_model_resolver"
WARM_START_RESOLVER = "warm_start_model_resolver"
SOURCE_RESOLVER = "source_model_resolver"
SOURCE_IMPORTER = "source_model_importer"
BASELINE_LOOKUP = "baseline_model_lookup"
WARM_START_LOOKUP = "warm_start_model_lookup"
SOURCE_LOOKUP = "source_model_lookup"
LOOKUPS = (BASELINE_LOOKUP, WARM_START_LOOKUP, SOURCE_LOOKUP)  # LatestPushedModel nodes (Kubeflow)
