"""The import wizard: upload, header detection, mapping, preview, background batches, report, rollback."""
