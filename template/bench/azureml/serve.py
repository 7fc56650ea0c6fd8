"""`azmlinfsrv` itself (gunicorn, its Flask app, the entry script), bound to the loopback interface: the
command hard-codes 0.0.0.0, and a benchmark on a shared machine listens on 127.0.0.1 only.

    python bench/azureml/serve.py --entry_script bench/azureml/score.py --model_dir <model> --port <port>
"""

from azureml_inference_server_http import amlserver

amlserver.DEFAULT_HOST = "127.0.0.1"

if __name__ == "__main__":
    amlserver.run()
