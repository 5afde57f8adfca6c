package bqfake

import "strings"

// WHERE clauses: values, parameters and the row filters they compile to.

// resolve returns the value and type of a literal or parameter.
func (ec *execCtx) resolve(v valExpr) (any, string, bool, *apiError) {
	if v.param == "" {
		return v.v, v.typ, true, nil
	}
	p, ok := ec.params[strings.ToLower(v.param)]
	if !ok {
		return nil, "", false, queryErrf("Query parameter '%s' not found at [%s]", v.param, ec.at(v.pos))
	}
	return p.v, p.typ, false, nil
}

// compile turns WHERE predicates into a row filter, type-checking every
// column and value against the schema.
func (ec *execCtx) compile(preds []pred, fields []Field) (func(map[string]any) bool, *apiError) {
	var fns []func(map[string]any) bool
	for _, pr := range preds {
		switch pr.op {
		case "TRUE":
			continue
		case "FALSE":
			fns = append(fns, func(map[string]any) bool { return false })
			continue
		}
		if pr.lhs != nil { // two values: the same answer for every row
			a, ta, _, err := ec.resolve(*pr.lhs)
			if err != nil {
				return nil, err
			}
			b, tb, _, err := ec.resolve(pr.vals[0])
			if err != nil {
				return nil, err
			}
			if sqlType(ta) != sqlType(tb) && !(isNumericType(ta) && isNumericType(tb)) {
				return nil, queryErrf("No matching signature for operator %s for argument types: %s, %s at [%s]", pr.op, sqlType(ta), sqlType(tb), ec.at(pr.pos))
			}
			holds := predFunc(pr.op, "v", []any{b})(map[string]any{"v": a})
			fns = append(fns, func(map[string]any) bool { return holds })
			continue
		}
		i, ok := findField(fields, pr.col.name)
		if !ok {
			return nil, queryErrf("Unrecognized name: %s at [%s]", pr.col.name, ec.at(pr.col.pos))
		}
		f := fields[i]
		var vals []any
		var argTypes []string
		for _, ve := range pr.vals {
			v, typ, literal, err := ec.resolve(ve)
			if err != nil {
				return nil, err
			}
			argTypes = append(argTypes, sqlType(typ))
			if typ != "" && !(isNumericType(typ) && isNumericType(f.Type)) {
				cv, ok := coerce(v, typ, f.Type, literal)
				if !ok {
					return nil, queryErrf("No matching signature for operator %s for argument types: %s, %s at [%s]", pr.op, sqlType(f.Type), strings.Join(argTypes, ", "), ec.at(pr.pos))
				}
				v = cv
			}
			vals = append(vals, v)
		}
		fns = append(fns, predFunc(pr.op, f.Name, vals))
	}
	return func(r map[string]any) bool {
		for _, fn := range fns {
			if !fn(r) {
				return false
			}
		}
		return true
	}, nil
}

func predFunc(op, col string, vals []any) func(map[string]any) bool {
	cmp := func(a, b any) (int, bool) {
		if a == nil || b == nil {
			return 0, false
		}
		return compareValues(a, b)
	}
	return func(r map[string]any) bool {
		v := r[col]
		switch op {
		case "IS NULL":
			return v == nil
		case "IS NOT NULL":
			return v != nil
		case "BETWEEN":
			lo, ok1 := cmp(v, vals[0])
			hi, ok2 := cmp(v, vals[1])
			return ok1 && ok2 && lo >= 0 && hi <= 0
		case "IN":
			for _, x := range vals {
				if c, ok := cmp(v, x); ok && c == 0 {
					return true
				}
			}
			return false
		}
		c, ok := cmp(v, vals[0])
		if !ok {
			return false
		}
		switch op {
		case "=":
			return c == 0
		case "!=":
			return c != 0
		case "<":
			return c < 0
		case "<=":
			return c <= 0
		case ">":
			return c > 0
		case ">=":
			return c >= 0
		}
		return false
	}
}
