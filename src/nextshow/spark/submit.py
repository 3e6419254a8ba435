"""The ``spark-submit`` entry point: any ``nextshow`` command inside a submitted Spark driver.

    spark-submit --master spark://head:7077 "$(python -c 'import nextshow.spark.submit as s;
    print(s.__file__)')" train --engine spark --model itemknn --promote

The session is created here first, with nothing but an application name, so the master,
memory, jars and every ``--conf`` come from the spark-submit command line; ``nextshow`` then
finds it active and uses it as it is (``NEXTSHOW_SPARK_*`` apply only to sessions nextshow
starts itself).
"""

from __future__ import annotations


def main() -> None:
    from pyspark.sql import SparkSession

    from nextshow.cli import main as cli_main
    from nextshow.spark.session import APP_NAME

    SparkSession.builder.appName(APP_NAME).getOrCreate()
    cli_main()


if __name__ == "__main__":
    main()
