"""lineage.pushes: a store whose first run has not pushed yet has no pushes, not an error."""

from __future__ import annotations

from ml_metadata.metadata_store import metadata_store
from ml_metadata.proto import metadata_store_pb2

from components import lineage


def test_a_pipeline_before_its_first_push_has_none(tmp_path):
    config = metadata_store_pb2.ConnectionConfig()
    config.sqlite.filename_uri = str(tmp_path / "mlmd.sqlite")
    config.sqlite.connection_mode = (
        metadata_store_pb2.SqliteMetadataSourceConfig.READWRITE_OPENCREATE
    )
    store = metadata_store.MetadataStore(config)
    # What a first run has registered before its Pusher: the pipeline context, no PushedModel.
    context_type = store.put_context_type(
        metadata_store_pb2.ContextType(name=lineage.PIPELINE_CONTEXT)
    )
    store.put_contexts([metadata_store_pb2.Context(type_id=context_type, name="task")])
    assert list(lineage.pushes(store, "task")) == []
    assert lineage.latest_push(store, "task") is None
