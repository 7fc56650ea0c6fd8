"""Where inference data goes in Azure; imported only when the service is told to write there.

- `blob` (AKS): block blobs in the environment's storage account, written with the pod's workload identity
  (service_identity.py). The storage account takes Entra ID only (no shared keys), and writing a blob is
  the data action `Microsoft.Storage/storageAccounts/blobServices/containers/blobs/write`, which Storage
  Blob Data Contributor grants (vendor/azure/built-in-roles.json); the platform assigns it to the
  project's workload identity on the container, held to `<slug>/modelDataCollector/` by an ABAC condition
  (infra/components/workload_identities.py).
- `azureml` (managed online endpoint): Azure ML's own data collector, through its client
  `azureml.ai.monitoring.Collector` (learn.microsoft.com/azure/machine-learning/
  how-to-collect-production-data, "custom logging"): one `collect` per request and collection, with the
  request's correlation id, so that the collector writes the same layout to the workspace's blob store
  (modelDataCollector/...). The deployment must enable the collections model_inputs and model_outputs
  (aml/deployment.yml, `data_collector`); its `collect` takes pandas DataFrames only, so this sink needs
  pandas, on the writer's thread only.
"""

from collections.abc import Iterable

from .events import Scored
from .inference_data import LayoutSink
from .settings import INPUTS_COLLECTION, OUTPUTS_COLLECTION, InferenceDataSettings


def blob_writer(settings: InferenceDataSettings):
    from azure.storage.blob import BlobServiceClient

    from .service_identity import credential

    service = BlobServiceClient(settings.blob_account_url, credential=credential())
    container = service.get_container_client(settings.blob_container)
    prefix = settings.blob_prefix.strip("/")

    def put(path: str, texts: Iterable[bytes]) -> None:
        container.upload_blob(f"{prefix}/{path}" if prefix else path, b"".join(texts), overwrite=False)

    return put


class CollectorSink:
    """Azure ML's data collector: it queues and sends to the deployment's collection agent itself."""

    def __init__(self) -> None:
        from azureml.ai.monitoring import Collector

        self.inputs = Collector(name=INPUTS_COLLECTION)
        self.outputs = Collector(name=OUTPUTS_COLLECTION)

    def store(self, batch: list[Scored]) -> None:
        import msgspec
        import pandas as pd
        from azureml.ai.monitoring.context import BasicCorrelationContext

        for request in batch:
            rows = msgspec.json.decode(request.inputs)
            context = BasicCorrelationContext(id=request.request_id) if request.request_id else None
            context = self.inputs.collect(pd.DataFrame(rows), context)
            self.outputs.collect(pd.DataFrame(msgspec.json.decode(request.outputs)), context)


def open_sink(settings: InferenceDataSettings):
    if settings.sink == "blob":
        return LayoutSink(blob_writer(settings), settings)
    if settings.sink == "azureml":
        return CollectorSink()
    raise ValueError(f"no inference data sink {settings.sink!r}")
