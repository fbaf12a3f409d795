// Purpose: Which of these stored objects (S3 log files) a load has stored completely before, with the ETag
//          they had and the incidents they were loaded under, so that a resumed load skips them.
// Mode: read
// Parameters:
//   $uris: list<string> — object URIs (s3://bucket/key)
// Returns: uri, etag, incidents
// Relies on: the LoadedObject(uri) uniqueness constraint / index.
UNWIND $uris AS uri
MATCH (o:LoadedObject {uri: uri})
RETURN o.uri AS uri, o.etag AS etag, o.incidents AS incidents
