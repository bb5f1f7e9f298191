import pipelines  # noqa: F401  (tf_keras before TensorFlow loads)
