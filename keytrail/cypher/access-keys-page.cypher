// Purpose: Access key ids in order, a page at a time (after $after): how a load walks every key to store its status.
// Parameters:
//   $after: string — the last id of the previous page ('' for the first)
//   $limit: int — the page size
// Returns: accessKeyId
:param {after: '', limit: 100};
MATCH (k:AccessKey)
WHERE k.accessKeyId > $after
RETURN k.accessKeyId AS accessKeyId
ORDER BY accessKeyId
LIMIT $limit
