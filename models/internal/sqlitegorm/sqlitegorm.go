// Package sqlitegorm is a small GORM dialector for the pure-Go SQLite driver
// modernc.org/sqlite.
//
// The embedded Temporal server already links modernc.org/sqlite, which
// registers the database/sql driver "sqlite". The usual GORM SQLite dialectors
// bring a second driver (cgo's mattn/go-sqlite3, or a modernc fork that
// registers "sqlite" again and panics), so ticketd carries this one instead. It
// implements what ticketd uses: queries, inserts with ON CONFLICT and
// RETURNING, transactions and save points, and the parts of the migrator that
// gormigrate and the migrations call.
//
// It may import only GORM and the SQLite driver.
package sqlitegorm

import (
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"gorm.io/gorm"
	"gorm.io/gorm/callbacks"
	"gorm.io/gorm/clause"
	"gorm.io/gorm/logger"
	"gorm.io/gorm/migrator"
	"gorm.io/gorm/schema"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// DriverName is the database/sql driver registered by modernc.org/sqlite.
const DriverName = "sqlite"

// Dialector opens SQLite databases for GORM.
type Dialector struct {
	DSN string
}

// Open returns a Dialector for the SQLite database named by dsn, in the
// syntax of modernc.org/sqlite (file path plus optional ?_pragma=… options).
func Open(dsn string) *Dialector { return &Dialector{DSN: dsn} }

// Name is the dialect name GORM and ticketd switch on.
func (d *Dialector) Name() string { return "sqlite" }

// Initialize opens the connection pool and registers GORM's callbacks.
func (d *Dialector) Initialize(db *gorm.DB) error {
	callbacks.RegisterDefaultCallbacks(db, &callbacks.Config{
		CreateClauses: []string{"INSERT", "VALUES", "ON CONFLICT", "RETURNING"},
		UpdateClauses: []string{"UPDATE", "SET", "FROM", "WHERE", "RETURNING"},
		DeleteClauses: []string{"DELETE", "FROM", "WHERE", "RETURNING"},
	})
	if db.ConnPool == nil {
		conn, err := sql.Open(DriverName, d.DSN)
		if err != nil {
			return fmt.Errorf("open sqlite %q: %w", d.DSN, err)
		}
		db.ConnPool = newPool(conn)
	}
	db.ClauseBuilders["LIMIT"] = buildLimit
	return nil
}

// buildLimit writes LIMIT/OFFSET; SQLite needs a LIMIT before any OFFSET.
func buildLimit(c clause.Clause, b clause.Builder) {
	l, ok := c.Expression.(clause.Limit)
	if !ok {
		c.Build(b)
		return
	}
	if l.Limit == nil && l.Offset == 0 {
		return
	}
	b.WriteString("LIMIT ")
	if l.Limit != nil && *l.Limit >= 0 {
		b.WriteString(fmt.Sprint(*l.Limit))
	} else {
		b.WriteString("-1")
	}
	if l.Offset > 0 {
		b.WriteString(" OFFSET ")
		b.WriteString(fmt.Sprint(l.Offset))
	}
}

// Migrator returns the SQLite-aware migrator.
func (d *Dialector) Migrator(db *gorm.DB) gorm.Migrator {
	return Migrator{migrator.Migrator{Config: migrator.Config{
		DB:                          db,
		Dialector:                   d,
		CreateIndexAfterCreateTable: true,
	}}}
}

// DataTypeOf maps GORM field types to SQLite column types. Explicit `type:`
// tags written for PostgreSQL are translated to their SQLite affinity.
func (d *Dialector) DataTypeOf(field *schema.Field) string {
	switch field.DataType {
	case schema.Bool:
		return "boolean"
	case schema.Int, schema.Uint:
		return "integer"
	case schema.Float:
		return "real"
	case schema.String:
		return "text"
	case schema.Time:
		return "datetime"
	case schema.Bytes:
		return "blob"
	}
	switch t := strings.ToLower(string(field.DataType)); {
	case t == "uuid", strings.HasPrefix(t, "varchar"), t == "jsonb", t == "json":
		return "text"
	case strings.HasPrefix(t, "timestamp"):
		return "datetime"
	case t == "smallint", t == "bigint":
		return "integer"
	default:
		return string(field.DataType)
	}
}

// DefaultValueOf is the value for a column created without a default.
func (d *Dialector) DefaultValueOf(*schema.Field) clause.Expression {
	return clause.Expr{SQL: "NULL"}
}

// BindVarTo writes a positional placeholder.
func (d *Dialector) BindVarTo(w clause.Writer, _ *gorm.Statement, _ any) {
	_ = w.WriteByte('?')
}

// QuoteTo quotes an identifier, table.column aware.
func (d *Dialector) QuoteTo(w clause.Writer, str string) {
	for i, part := range strings.Split(str, ".") {
		if i > 0 {
			_ = w.WriteByte('.')
		}
		_ = w.WriteByte('"')
		_, _ = w.WriteString(strings.ReplaceAll(part, `"`, `""`))
		_ = w.WriteByte('"')
	}
}

// Explain renders a statement with its values for logs.
func (d *Dialector) Explain(sql string, vars ...any) string {
	return logger.ExplainSQL(sql, nil, `'`, vars...)
}

// SavePoint creates a save point inside a transaction.
func (d *Dialector) SavePoint(tx *gorm.DB, name string) error {
	return tx.Exec("SAVEPOINT " + name).Error
}

// RollbackTo rolls back to a save point.
func (d *Dialector) RollbackTo(tx *gorm.DB, name string) error {
	return tx.Exec("ROLLBACK TO SAVEPOINT " + name).Error
}

// Translate turns SQLite constraint errors into GORM's portable errors, so
// callers test for gorm.ErrDuplicatedKey on either database.
func (d *Dialector) Translate(err error) error {
	var se *sqlite.Error
	if errors.As(err, &se) {
		switch se.Code() {
		case sqlite3.SQLITE_CONSTRAINT_UNIQUE, sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY:
			return gorm.ErrDuplicatedKey
		case sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY:
			return gorm.ErrForeignKeyViolated
		case sqlite3.SQLITE_CONSTRAINT_CHECK:
			return gorm.ErrCheckConstraintViolated
		}
	}
	return err
}

// Migrator overrides the parts of GORM's generic migrator that read
// information_schema, which SQLite does not have.
type Migrator struct {
	migrator.Migrator
}

// CurrentDatabase names the main schema.
func (m Migrator) CurrentDatabase() string { return "main" }

// HasTable reports whether a table exists.
func (m Migrator) HasTable(value any) bool {
	var count int64
	_ = m.RunWithValue(value, func(stmt *gorm.Statement) error {
		return m.DB.Raw("SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = ?", stmt.Table).Row().Scan(&count)
	})
	return count > 0
}

// GetTables lists the user tables.
func (m Migrator) GetTables() ([]string, error) {
	var names []string
	err := m.DB.Raw("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name").Scan(&names).Error
	return names, err
}

// HasIndex reports whether an index exists.
func (m Migrator) HasIndex(value any, name string) bool {
	var count int64
	_ = m.RunWithValue(value, func(stmt *gorm.Statement) error {
		if stmt.Schema != nil {
			if idx := stmt.Schema.LookIndex(name); idx != nil {
				name = idx.Name
			}
		}
		return m.DB.Raw("SELECT count(*) FROM sqlite_master WHERE type = 'index' AND tbl_name = ? AND name = ?", stmt.Table, name).Row().Scan(&count)
	})
	return count > 0
}

// HasColumn reports whether a table has a column.
func (m Migrator) HasColumn(value any, column string) bool {
	var count int64
	_ = m.RunWithValue(value, func(stmt *gorm.Statement) error {
		if stmt.Schema != nil {
			if f := stmt.Schema.LookUpField(column); f != nil {
				column = f.DBName
			}
		}
		return m.DB.Raw("SELECT count(*) FROM pragma_table_info(?) WHERE name = ?", stmt.Table, column).Row().Scan(&count)
	})
	return count > 0
}

// DropIndex drops an index.
func (m Migrator) DropIndex(value any, name string) error {
	return m.RunWithValue(value, func(stmt *gorm.Statement) error {
		if stmt.Schema != nil {
			if idx := stmt.Schema.LookIndex(name); idx != nil {
				name = idx.Name
			}
		}
		return m.DB.Exec("DROP INDEX IF EXISTS ?", clause.Column{Name: name}).Error
	})
}
