// Package datagouv is the connector of resources published on data.gouv.fr
// (or any udata portal): `kind: datagouv` in a registration.
//
//	source:
//	  kind: datagouv
//	  dataset: interruptions-volontaires-de-grossesses-ivg   # id or slug
//	  resource: donnees_feuil4.csv                           # id or exact title
//	  encoding: iso-8859-1                                   # passed to the csv connector
//	  decimal: ","
//
// Opening the source asks the udata API (GET {api}/datasets/{dataset}/)
// for the dataset's resources, picks the one the registration names, and
// reads it with the file connector of its format: csv with
// connectors/csv, json with connectors/json, parquet with
// connectors/parquet (see Config.Readers). Every option that is not one of
// the connector's own (kind, dataset, resource, api, reader) is handed to
// that file connector, so that a CSV resource takes delimiter, encoding,
// decimal... as a csv registration would, and is checked by it.
//
// The resource's checksum and last_modified, as the API publishes them,
// identify its version: an unchanged resource is not downloaded again
// (connectors.ErrUnchanged). A resource the API says nothing about falls
// back on the file server's ETag and Last-Modified.
package datagouv
