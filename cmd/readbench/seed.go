package main

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/ticketd/ticketd/models"
)

// The seeded population. It does not grow with the ticket count: at a
// million tickets each agent's queue and each customer's list are 100 times
// longer than at 10,000, which is what the read paths must not feel.
const (
	numCustomers  = 1000
	numAgents     = 50
	numCategories = 12
	// activeShare is the newest part of the tickets that is still being
	// worked on; older tickets are resolved or closed.
	activeShare = 0.07
)

var products = []string{
	"printer", "laptop", "monitor", "keyboard", "headset", "router", "mailbox", "calendar",
	"invoice", "password", "vpn", "wifi", "dashboard", "report", "export", "import",
	"webhook", "license", "badge", "phone", "scanner", "projector", "backup", "database",
	"checkout", "payment", "refund", "shipment", "coupon", "account", "profile", "upload",
	"download", "search", "sync", "calendar invite", "billing", "subscription", "api key", "sso",
}

var problems = []string{
	"does not start", "is very slow", "shows an error", "stopped working after the update",
	"cannot connect", "keeps disconnecting", "is missing data", "rejects my login",
	"gives the wrong total", "times out", "crashes on open", "needs to be replaced",
	"sends duplicate emails", "was charged twice", "is stuck in processing",
}

var sentences = []string{
	"It started this morning and happens every time.",
	"We tried restarting it but nothing changed.",
	"Several people on my team see the same thing.",
	"This blocks our monthly close, please help soon.",
	"The message says something about a timeout.",
	"It worked fine until last week.",
	"I attached nothing because the upload fails too.",
	"Our office is in the east wing, second floor.",
	"Please call me back when you have a moment.",
	"We are on the business plan since last year.",
}

// myTicketsPage is the page size of the my-tickets query, and fewestAsking
// how many customers ask for it at least.
const (
	myTicketsPage = 20
	fewestAsking  = 5
)

// population is what the queries are drawn from.
type population struct {
	customers []models.User
	pageful   []models.User // the customers who ask for my-tickets (see seed)
	agents    []models.User
	admin     models.User
	ticketIDs []string // a sample of live tickets for GET
	size      int
}

// seed fills a migrated, empty database with n tickets: users and categories
// through the store, the tickets with COPY (the secondary indexes of tickets
// dropped during the load and rebuilt after it, as a bulk load does), then
// the counters rebuilt from the rows, VACUUM ANALYZE.
func seed(ctx context.Context, store *models.Store, dsn string, n int, progress func(string)) (*population, error) {
	rng := rand.New(rand.NewPCG(uint64(n), 42))
	end := time.Now().UTC().Truncate(time.Second)
	start := end.Add(-365 * 24 * time.Hour)
	p := &population{size: n}

	mkUser := func(role models.Role, i int) (models.User, error) {
		u := models.User{ID: uuid.NewString(), Email: fmt.Sprintf("%s%d@bench.example", role, i),
			Name: fmt.Sprintf("%s %d", role, i), Role: role, Active: true, CreatedAt: start, UpdatedAt: start}
		return u, store.CreateUser(ctx, &u)
	}
	var err error
	if p.admin, err = mkUser(models.RoleAdmin, 0); err != nil {
		return nil, err
	}
	for i := range numAgents {
		u, err := mkUser(models.RoleAgent, i)
		if err != nil {
			return nil, err
		}
		p.agents = append(p.agents, u)
	}
	// Customers in one batch: a thousand single inserts are slow.
	for i := range numCustomers {
		p.customers = append(p.customers, models.User{ID: uuid.NewString(), Email: fmt.Sprintf("customer%d@bench.example", i),
			Name: fmt.Sprintf("customer %d", i), Role: models.RoleCustomer, Active: true, CreatedAt: start, UpdatedAt: start})
	}
	if err := store.DB().WithContext(ctx).CreateInBatches(p.customers, 500).Error; err != nil {
		return nil, fmt.Errorf("create customers: %w", err)
	}
	var categories []string
	for i := range numCategories {
		c := models.Category{ID: uuid.NewString(), Name: fmt.Sprintf("category %d", i), CreatedAt: start}
		if err := store.CreateCategory(ctx, &c); err != nil {
			return nil, err
		}
		categories = append(categories, c.ID)
	}

	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return nil, err
	}
	defer func() { _ = conn.Close(context.Background()) }()
	if _, err := conn.Exec(ctx, "SET maintenance_work_mem = '1GB'"); err != nil {
		return nil, err
	}

	// Drop the secondary indexes of tickets, remembering how to rebuild them.
	rows, err := conn.Query(ctx, `SELECT i.indexname, i.indexdef FROM pg_indexes i
		WHERE i.schemaname = current_schema() AND i.tablename = 'tickets'
		AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conname = i.indexname)`)
	if err != nil {
		return nil, err
	}
	type index struct{ name, def string }
	var indexes []index
	for rows.Next() {
		var ix index
		if err := rows.Scan(&ix.name, &ix.def); err != nil {
			return nil, err
		}
		indexes = append(indexes, ix)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	for _, ix := range indexes {
		if _, err := conn.Exec(ctx, "DROP INDEX "+pgx.Identifier{ix.name}.Sanitize()); err != nil {
			return nil, err
		}
	}

	progress(fmt.Sprintf("copying %d tickets", n))
	columns := []string{"id", "number", "subject", "description", "status", "priority", "category_id",
		"customer_id", "assignee_id", "created_by", "updated_by", "created_at", "updated_at",
		"first_response_at", "resolved_at", "closed_at", "time_spent_minutes", "version", "deleted_at"}
	step := end.Sub(start) / time.Duration(n)
	sampleEvery := max(n/2000, 1)
	i := 0
	src := pgx.CopyFromFunc(func() ([]any, error) {
		if i == n {
			return nil, nil
		}
		id := uuid.New()
		created := start.Add(time.Duration(i) * step)
		cust := p.customers[rng.IntN(len(p.customers))]
		agent := p.agents[rng.IntN(len(p.agents))]
		age := float64(i) / float64(n)
		var (
			status                      models.Status
			assignee                    any
			firstResp, resolved, closed any
			updated                     = created.Add(time.Duration(rng.Int64N(int64(72 * time.Hour))))
			deleted                     any
		)
		if updated.After(end) {
			updated = end
		}
		if age >= 1-activeShare {
			switch r := rng.IntN(100); {
			case r < 20:
				status = models.StatusNew
			case r < 50:
				status = models.StatusOpen
			case r < 70:
				status = models.StatusInProgress
			case r < 85:
				status = models.StatusPending
			default:
				status = models.StatusOnHold
			}
		} else if rng.IntN(100) < 85 {
			status = models.StatusClosed
		} else {
			status = models.StatusResolved
		}
		if status != models.StatusNew {
			assignee, firstResp = uuid.MustParse(agent.ID), created.Add(time.Hour)
		}
		switch status {
		case models.StatusClosed:
			resolved, closed = updated, updated
		case models.StatusResolved:
			resolved = updated
		}
		if rng.IntN(1000) == 0 {
			deleted = updated
		} else if i%sampleEvery == 0 {
			p.ticketIDs = append(p.ticketIDs, id.String())
		}
		prio := int16(2)
		switch r := rng.IntN(10); {
		case r < 2:
			prio = 1
		case r < 7:
			prio = 2
		case r < 9:
			prio = 3
		default:
			prio = 4
		}
		var desc strings.Builder
		for range 2 + rng.IntN(3) {
			if desc.Len() > 0 {
				desc.WriteByte(' ')
			}
			desc.WriteString(sentences[rng.IntN(len(sentences))])
		}
		subject := products[rng.IntN(len(products))] + " " + problems[rng.IntN(len(problems))]
		i++
		custID := uuid.MustParse(cust.ID)
		return []any{id, int64(i), subject, desc.String(), string(status), prio, uuid.MustParse(categories[rng.IntN(len(categories))]),
			custID, assignee, custID, custID, created, updated, firstResp, resolved, closed, 0, int64(1 + rng.IntN(8)), deleted}, nil
	})
	if _, err := conn.CopyFrom(ctx, pgx.Identifier{"tickets"}, columns, src); err != nil {
		return nil, fmt.Errorf("copy tickets: %w", err)
	}
	if _, err := conn.Exec(ctx, "UPDATE counters SET value = $1 WHERE name = 'ticket_number'", n); err != nil {
		return nil, err
	}
	for _, ix := range indexes {
		progress("building index " + ix.name)
		if _, err := conn.Exec(ctx, ix.def); err != nil {
			return nil, fmt.Errorf("rebuild %s: %w", ix.name, err)
		}
	}
	progress("rebuilding the counters")
	if err := store.RecountTickets(ctx); err != nil {
		return nil, err
	}
	progress("VACUUM ANALYZE")
	if _, err := conn.Exec(ctx, "VACUUM ANALYZE"); err != nil {
		return nil, err
	}
	// my-tickets is asked by customers with at least a page of tickets: at
	// 10,000 tickets a customer has 10 on average, and a half-empty page is
	// not the same request as a full one. Where fewer than a page have that
	// many, the customers with the most tickets ask.
	rows, err = conn.Query(ctx, `SELECT customer_id, count(*) FROM tickets WHERE deleted_at IS NULL
		GROUP BY customer_id ORDER BY count(*) DESC, customer_id`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	byID := map[string]models.User{}
	for _, c := range p.customers {
		byID[c.ID] = c
	}
	for rows.Next() {
		var (
			id string
			n  int
		)
		if err := rows.Scan(&id, &n); err != nil {
			return nil, err
		}
		if n >= myTicketsPage || len(p.pageful) < fewestAsking {
			p.pageful = append(p.pageful, byID[id])
		}
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	return p, nil
}
