// Package server is datalab's HTTP face, mounted by `datalab serve`: a JSON
// API for data administrators and the tools of the lab, server-rendered web
// pages for steering teams, and the catalog's DCAT-AP export.
//
// Every dataset's metadata is listed, whatever its level, as data.gouv.fr
// lists its restricted datasets; no endpoint ever serves a row of a
// dataset. What could quote one is withheld too: the error of a failed
// ingest or run of a dataset above public (a constraint's message cites
// values), and an incremental source's cursor.
//
// Project outputs (out/<level>/<project>/) are served at the same path
// under /out/: those of level public freely, the others only to the
// administrator. Writes (registering a dataset, starting an ingest) and
// non-public outputs need the token of Options.AdminToken, read by `datalab
// serve` from DATALAB_ADMIN_TOKEN: "Authorization: Bearer <token>" for the
// API; browsers may sign in with it at /login, which sets a cookie that
// opens the non-public outputs and pages but never the write API. Without a
// token the write API is off.
//
// The pages are French, accessible (landmarks, headings, labelled forms,
// text with every colour) and light: one page, its style inline, no script
// and nothing loaded from elsewhere.
package server
