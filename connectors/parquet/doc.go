// Package parquet is the connector of Apache Parquet files, local or over
// http(s): `kind: parquet` in a registration.
//
// New builds a Source from a registration (see Options). Opening it reads
// the file's footer; the Stream then decodes the file with arrow-go's
// Parquet reader (pqarrow), batch by batch, row group after row group, so
// that memory holds one batch and the pages being decoded, whatever the
// size of the file. A Parquet file is read at random: a local file is read
// in place; a remote (or gzip-compressed) one is first downloaded into a
// temporary file, hashed on the way, which Release removes.
//
// Parquet columns are typed: the stream keeps their Arrow types (nested
// structs, lists and maps included), and normalises every name with
// connectors.ColumnNames (nested field names too), keeping the original
// under connectors.TitleKey in the field's metadata. A registration's
// schema may retype a column where a cast is meaningful (an integer code
// read as a string, any integer or decimal read as a number, a date read
// as a datetime...); a declared type that the column cannot take stops
// Open with a *connectors.DataError that says both types.
package parquet
