package api_test

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/ticketd/ticketd/api"
)

func loadSpec(t *testing.T) *openapi3.T {
	t.Helper()
	openapi3.DefineStringFormatValidator("uuid", openapi3.NewRegexpFormatValidator(openapi3.FormatOfStringForUUIDOfRFC9562))
	doc, err := openapi3.NewLoader().LoadFromData(api.OpenAPISpec())
	if err != nil {
		t.Fatal(err)
	}
	if err := doc.Validate(context.Background()); err != nil {
		t.Fatal(err)
	}
	return doc
}

// TestSpecExamplesValidate checks every example in openapi.yaml against
// its schema: media-type examples (single and named), schema examples of
// components and properties, and parameter examples.
func TestSpecExamplesValidate(t *testing.T) {
	doc := loadSpec(t)
	var checked int
	check := func(where string, schema *openapi3.SchemaRef, example any) {
		t.Helper()
		if schema == nil || schema.Value == nil || example == nil {
			return
		}
		checked++
		// Round-trip through JSON so YAML-decoded values have JSON types.
		raw, err := json.Marshal(example)
		if err != nil {
			t.Errorf("%s: example does not encode as JSON: %v", where, err)
			return
		}
		var v any
		if err := json.Unmarshal(raw, &v); err != nil {
			t.Fatal(err)
		}
		if err := schema.Value.VisitJSON(v, openapi3.MultiErrors()); err != nil {
			t.Errorf("%s: example %s does not match its schema: %v", where, raw, err)
		}
	}
	media := func(where string, content openapi3.Content) {
		for mt, m := range content {
			check(where+" "+mt, m.Schema, m.Example)
			for name, ex := range m.Examples {
				if ex.Value != nil {
					check(where+" "+mt+" example "+name, m.Schema, ex.Value.Value)
				}
			}
		}
	}
	var walk func(where string, s *openapi3.SchemaRef, depth int)
	walk = func(where string, s *openapi3.SchemaRef, depth int) {
		if s == nil || s.Value == nil || depth > 8 {
			return
		}
		check(where, s, s.Value.Example)
		for name, p := range s.Value.Properties {
			walk(where+"."+name, p, depth+1)
		}
		if s.Value.Items != nil {
			walk(where+"[]", s.Value.Items, depth+1)
		}
	}
	for name, s := range doc.Components.Schemas {
		walk("schema "+name, s, 0)
	}
	for name, r := range doc.Components.Responses {
		media("response "+name, r.Value.Content)
	}
	for name, p := range doc.Components.Parameters {
		check("parameter "+name, p.Value.Schema, p.Value.Example)
	}
	for path, item := range doc.Paths.Map() {
		for method, op := range item.Operations() {
			where := method + " " + path
			if op.RequestBody != nil && op.RequestBody.Value != nil {
				media(where+" request", op.RequestBody.Value.Content)
			}
			for code, r := range op.Responses.Map() {
				if r.Ref == "" && r.Value != nil {
					media(where+" "+code, r.Value.Content)
				}
			}
			for _, p := range append(op.Parameters, item.Parameters...) {
				if p.Ref == "" && p.Value != nil {
					check(where+" parameter "+p.Value.Name, p.Value.Schema, p.Value.Example)
				}
			}
		}
	}
	if checked < 30 {
		t.Fatalf("checked only %d examples; is the walk broken?", checked)
	}
}

// TestSpecDocumentsErrors checks that every operation lists the client
// errors every request can get: 400 (a malformed query string), 429 (rate
// limits), 401 when it needs a token, and 413 when it takes a body.
func TestSpecDocumentsErrors(t *testing.T) {
	doc := loadSpec(t)
	var missing []string
	for path, item := range doc.Paths.Map() {
		for method, op := range item.Operations() {
			want := []string{"400", "429"}
			if op.Security == nil || len(*op.Security) > 0 {
				want = append(want, "401")
			}
			if op.RequestBody != nil {
				want = append(want, "413")
			}
			for _, code := range want {
				if op.Responses.Value(code) == nil {
					missing = append(missing, fmt.Sprintf("%s %s: no %s", method, path, code))
				}
			}
		}
	}
	sort.Strings(missing)
	if len(missing) > 0 {
		t.Errorf("operations without the responses every request may get:\n%s", strings.Join(missing, "\n"))
	}
}
