// Package analysis reads a study database and turns it into loss-curve
// reports, meta-plots, query tables and CSV exports. Its functions take a
// *sql.DB that should be opened read-only with store.OpenReadOnly. The
// package never trains: everything it shows comes from the `results` view
// and the `params` and `curves` tables of store/schema.sql.
package analysis
