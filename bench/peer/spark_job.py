"""The peer of `logstream stream` in the peer benchmark (bench/peer.ts): the old Python pipeline's
job on Spark Structured Streaming. Kafka -> parse the JSON -> 7 features -> Spark ML standard
scaler and K-means (k=8, fitted beforehand on a sample) -> distance to the assigned centre in the
JVM -> Delta partitioned by date and hour. No Python UDF runs per row.

  python spark_job.py resolve --ivy DIR --packages P      start and stop a session (fetches the jars)
  python spark_job.py serve --ivy DIR --packages P ...    fit, warm up, then take commands on stdin:
      throughput TOPIC TABLE   drain the topic from the earliest offset into a fresh table, then report
      latency TOPIC TABLE      start a query on the topic and keep it running until the line "stop"
      quit
Replies are JSON lines on stdout; Spark's own log goes to stderr.
"""

import argparse
import json
import math
import sys
import time


def session(args, master="local[2]", extra=None):
    from pyspark.sql import SparkSession

    builder = (
        SparkSession.builder.master(master)
        .appName("logstream-peer-bench")
        .config("spark.jars.packages", args.packages)
        .config("spark.jars.ivy", args.ivy)
        .config("spark.sql.extensions", "io.delta.sql.DeltaSparkSessionExtension")
        .config("spark.sql.catalog.spark_catalog", "org.apache.spark.sql.delta.catalog.DeltaCatalog")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.driver.host", "127.0.0.1")
        .config("spark.driver.bindAddress", "127.0.0.1")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.streaming.numRecentProgressUpdates", "1000")
        .config("spark.driver.memory", getattr(args, "driver_memory", "2g"))
    )
    for key, value in (extra or {}).items():
        builder = builder.config(key, value)
    spark = builder.getOrCreate()
    spark.sparkContext.setLogLevel("WARN")
    return spark


def reply(event, **fields):
    sys.stdout.write(json.dumps({"event": event, "atMs": int(time.time() * 1000), **fields}) + "\n")
    sys.stdout.flush()


FEATURES = ["log_response_time", "log_bytes", "is_5xx", "is_4xx", "is_post", "hour_sin", "hour_cos"]


def parsed(raw):
    """Kafka rows -> one row per log with its 7 features; JSON that does not parse is dropped."""
    from pyspark.sql import functions as F
    from pyspark.sql.types import DoubleType, IntegerType, LongType, StringType, StructField, StructType, TimestampType

    schema = StructType(
        [
            StructField("timestamp", TimestampType()),
            StructField("client_ip", StringType()),
            StructField("method", StringType()),
            StructField("path", StringType()),
            StructField("status", IntegerType()),
            StructField("response_time_ms", DoubleType()),
            StructField("bytes", LongType()),
            StructField("referrer", StringType()),
            StructField("user_agent", StringType()),
            StructField("label", StringType()),
        ]
    )
    logs = raw.select(
        F.from_json(F.col("value").cast("string"), schema).alias("log"),
        F.col("topic").alias("kafka_topic"),
        F.col("partition").alias("kafka_partition"),
        F.col("offset").alias("kafka_offset"),
        F.col("timestamp").alias("kafka_time"),
    ).where(F.col("log.timestamp").isNotNull())
    hour_angle = (F.hour("log.timestamp") * (2 * math.pi / 24)).cast("double")
    return logs.select(
        F.col("log.timestamp").alias("event_time"),
        F.date_format("log.timestamp", "yyyy-MM-dd").alias("date"),
        F.hour("log.timestamp").alias("hour"),
        F.col("log.client_ip").alias("client_ip"),
        F.col("log.method").alias("method"),
        F.col("log.path").alias("path"),
        F.col("log.status").alias("status"),
        F.col("log.response_time_ms").alias("response_time_ms"),
        F.col("log.bytes").alias("response_bytes"),
        F.col("log.referrer").alias("referrer"),
        F.col("log.user_agent").alias("user_agent"),
        F.col("log.label").alias("label"),
        "kafka_topic",
        "kafka_partition",
        "kafka_offset",
        "kafka_time",
        F.log1p(F.coalesce(F.col("log.response_time_ms"), F.lit(0.0))).alias("log_response_time"),
        F.log1p(F.greatest(F.coalesce(F.col("log.bytes"), F.lit(0)), F.lit(0)).cast("double")).alias("log_bytes"),
        (F.col("log.status") >= 500).cast("double").alias("is_5xx"),
        ((F.col("log.status") >= 400) & (F.col("log.status") < 500)).cast("double").alias("is_4xx"),
        (F.col("log.method") == "POST").cast("double").alias("is_post"),
        F.sin(hour_angle).alias("hour_sin"),
        F.cos(hour_angle).alias("hour_cos"),
    )


class Model:
    """StandardScaler + KMeans from Spark ML, fitted on a sample, applied without Python per row."""

    def __init__(self, spark, sample, k, seed):
        from pyspark.ml.clustering import KMeans
        from pyspark.ml.feature import StandardScaler, VectorAssembler
        from pyspark.ml.functions import vector_to_array
        from pyspark.sql import functions as F

        self.assembler = VectorAssembler(inputCols=FEATURES, outputCol="features", handleInvalid="keep")
        assembled = self.assembler.transform(sample)
        self.scaler = StandardScaler(inputCol="features", outputCol="scaled", withMean=True, withStd=True).fit(assembled)
        scaled = self.scaler.transform(assembled).cache()
        self.kmeans = KMeans(k=k, seed=seed, featuresCol="scaled", predictionCol="cluster", maxIter=30).fit(scaled)
        self.centres = [[float(value) for value in centre] for centre in self.kmeans.clusterCenters()]
        self.mean = [float(value) for value in self.scaler.mean]
        self.std = [float(value) for value in self.scaler.std]
        # Anomaly threshold per cluster: the 99th percentile of the training rows' distances.
        trained = self.kmeans.transform(scaled).withColumn("distance", self._distance(vector_to_array(F.col("scaled"))))
        by_cluster = {
            row["cluster"]: float(row["p99"])
            for row in trained.groupBy("cluster").agg(F.percentile_approx("distance", 0.99).alias("p99")).collect()
        }
        self.thresholds = [max(by_cluster.get(cluster, 1.0), 1e-9) for cluster in range(k)]
        scaled.unpersist()

    def _distance(self, scaled_array):
        from pyspark.sql import functions as F

        centres = F.array(*[F.array(*[F.lit(value) for value in centre]) for centre in self.centres])
        squares = F.zip_with(scaled_array, F.element_at(centres, F.col("cluster") + 1), lambda a, b: (a - b) * (a - b))
        return F.sqrt(F.aggregate(squares, F.lit(0.0), lambda total, value: total + value))

    def score_ml(self, logs):
        """Spark ML's own transformers (JVM), distance as a higher-order-function expression."""
        from pyspark.ml.functions import vector_to_array
        from pyspark.sql import functions as F

        scored = self.kmeans.transform(self.scaler.transform(self.assembler.transform(logs)))
        return scored.withColumn("distance", self._distance(vector_to_array(F.col("scaled"))))

    def score_sql(self, logs):
        """The same model as plain SQL arithmetic (whole-stage codegen, no vectors)."""
        from pyspark.sql import functions as F

        scaled = [
            (F.col(name) - F.lit(mean)) / F.lit(std) if std > 0 else F.lit(0.0)
            for name, mean, std in zip(FEATURES, self.mean, self.std)
        ]
        squared = [
            sum(((value - F.lit(centre[index])) * (value - F.lit(centre[index])) for index, value in enumerate(scaled)), F.lit(0.0))
            for centre in self.centres
        ]
        with_d = logs.select("*", *[square.alias(f"_d{cluster}") for cluster, square in enumerate(squared)])
        nearest = F.least(*[F.col(f"_d{cluster}") for cluster in range(len(squared))])
        cluster = F.lit(len(squared) - 1)
        for index in reversed(range(len(squared) - 1)):
            cluster = F.when(F.col(f"_d{index}") == F.col("_nearest"), F.lit(index)).otherwise(cluster)
        with_nearest = with_d.withColumn("_nearest", nearest)
        return with_nearest.withColumn("cluster", cluster).withColumn("distance", F.sqrt(F.col("_nearest")))

    def score(self, logs, scoring):
        from pyspark.sql import functions as F

        scored = self.score_ml(logs) if scoring == "ml" else self.score_sql(logs)
        thresholds = F.array(*[F.lit(value) for value in self.thresholds])
        score = F.col("distance") / F.element_at(thresholds, F.col("cluster") + 1)
        return scored.select(
            "event_time",
            "date",
            "hour",
            "client_ip",
            "method",
            "path",
            "status",
            "response_time_ms",
            "response_bytes",
            "referrer",
            "user_agent",
            "label",
            "kafka_topic",
            "kafka_partition",
            "kafka_offset",
            "kafka_time",
            F.current_timestamp().alias("ingest_time"),
            score.alias("anomaly_score"),
            (score > 1.0).alias("is_anomaly"),
            F.col("cluster").cast("int").alias("cluster"),
        )


def kafka_options(args, topic):
    return {
        "kafka.bootstrap.servers": args.bootstrap,
        "subscribe": topic,
        "startingOffsets": "earliest",
        "failOnDataLoss": "false",
        # The same fetch size per partition as our kafkajs consumer.
        "kafka.max.partition.fetch.bytes": str(4 * 1024 * 1024),
    }


def start_query(spark, args, model, topic, table, checkpoint, max_offsets):
    reader = spark.readStream.format("kafka").options(**kafka_options(args, topic))
    if max_offsets:
        reader = reader.option("maxOffsetsPerTrigger", str(max_offsets))
    rows = model.score(parsed(reader.load()), args.scoring)
    return (
        rows.writeStream.format("delta")
        .outputMode("append")
        .partitionBy("date", "hour")
        .option("checkpointLocation", checkpoint)
        .trigger(processingTime="0 seconds")
        .queryName(f"peer-{topic}")
        .start(table)
    )


def batch_report(query):
    """Rows and Spark's own phase durations (ms) of each micro-batch that read rows."""
    batches = [progress for progress in query.recentProgress if progress.get("numInputRows", 0) > 0]
    return {
        "rows": sum(progress["numInputRows"] for progress in batches),
        "batches": len(batches),
        "batchDurations": [{"rows": progress["numInputRows"], **progress.get("durationMs", {})} for progress in batches],
    }


def drain(spark, args, model, topic, table, checkpoint, max_offsets):
    """Runs a query until everything the topic holds now is committed to the table."""
    started = time.time()
    query = start_query(spark, args, model, topic, table, checkpoint, max_offsets)
    query.processAllAvailable()
    query.stop()
    return {**batch_report(query), "seconds": time.time() - started, "queryId": query.id}


def serve(args):
    extra = {
        "spark.sql.shuffle.partitions": str(args.shuffle_partitions),
        # Delta rebuilds the table state after each commit in this many tasks (default 50): on
        # local[2] that alone cost 1.5 s per micro-batch; with 2 a commit costs ~0.5 s here.
        "spark.databricks.delta.snapshotPartitions": str(args.shuffle_partitions),
    }
    spark = session(args, master=args.master, extra=extra)
    reply("started", sparkVersion=spark.version)
    fit_started = time.time()
    sample_raw = spark.read.format("kafka").options(**kafka_options(args, args.warmup_topic)).option("endingOffsets", "latest").load()
    sample = parsed(sample_raw).limit(args.fit_rows).cache()
    fitted_rows = sample.count()
    model = Model(spark, sample, args.k, 42)
    sample.unpersist()
    reply("fitted", rows=fitted_rows, k=args.k, seconds=time.time() - fit_started, thresholds=model.thresholds)
    # Several micro-batches, so every phase of one (planning, fetch, write, commit) has run before the clock starts.
    warm = drain(
        spark,
        args,
        model,
        args.warmup_topic,
        f"{args.work}/warmup/table",
        f"{args.work}/warmup/checkpoint",
        args.warmup_max_offsets_per_trigger,
    )
    reply("warm", **warm)
    for line in sys.stdin:
        words = line.split()
        if not words:
            continue
        if words[0] == "quit":
            break
        if words[0] == "throughput":
            _, topic, table = words
            result = drain(spark, args, model, topic, table, f"{table}-checkpoint", args.max_offsets_per_trigger)
            reply("drained", **result)
        elif words[0] == "latency":
            _, topic, table = words
            query = start_query(spark, args, model, topic, table, f"{table}-checkpoint", args.max_offsets_per_trigger)
            # The first (empty) micro-batch has run once the query reports progress.
            deadline = time.time() + 120
            while not query.recentProgress and time.time() < deadline:
                time.sleep(0.05)
            reply("running", queryId=query.id)
            for command in sys.stdin:
                if command.strip() == "stop":
                    break
            query.stop()
            reply("stopped", **batch_report(query))
        else:
            reply("error", message=f"unknown command {words[0]}")
    spark.stop()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("command", choices=["resolve", "serve"])
    parser.add_argument("--ivy", required=True)
    parser.add_argument("--packages", required=True)
    parser.add_argument("--bootstrap", default="127.0.0.1:9092")
    parser.add_argument("--warmup-topic")
    parser.add_argument("--work")
    parser.add_argument("--fit-rows", type=int, default=10000)
    parser.add_argument("--k", type=int, default=8)
    parser.add_argument("--max-offsets-per-trigger", type=int, default=200000)
    parser.add_argument("--warmup-max-offsets-per-trigger", type=int, default=50000)
    parser.add_argument("--shuffle-partitions", type=int, default=2)
    parser.add_argument("--master", default="local[2]")
    parser.add_argument("--scoring", choices=["ml", "sql"], default="ml")
    parser.add_argument("--driver-memory", default="3g")
    args = parser.parse_args()
    if args.command == "resolve":
        session(args, master="local[1]").stop()
        reply("resolved")
    else:
        serve(args)


if __name__ == "__main__":
    main()
