"""Training on Apache Spark: the heavy steps of ``nextshow train`` as Spark jobs.

The engine reads a snapshot's Parquet files straight from the artifact store (a local folder or
``s3a://``), computes the same arrays the NumPy models hold with Spark's own primitives (joins,
aggregations, window functions, MLlib's ALS), and hands them to the ordinary recommender
classes on the driver, so the artifact, the registry and the gate are the ones every model uses.

``pyspark`` is an optional dependency (``pip install 'nextshow[spark]'``); nothing outside this
package imports it, and this package imports it only inside its modules.

- :mod:`.session`: the SparkSession from settings, artifact-store URLs as Spark paths
- :mod:`.frames`: a snapshot as a likes DataFrame with the NumPy engine's column order
- :mod:`.split`: the evaluation's per-user temporal holdout, as a window function
- :mod:`.similarity`: co-occurrence, cosine and RP3beta similarity, top-K per show
- :mod:`.popularity`: all-time and recent popularity
- :mod:`.als`: MLlib ALS with implicit preferences
- :mod:`.models`: model name -> Spark fit returning a fitted nextshow recommender
- :mod:`.evaluate`: holdout metrics on a seeded sample of test users, on the driver
- :mod:`.engine`: the training pipeline's engine (evaluate, then fit on every like)
"""
