package bqfake

import (
	"strconv"
	"strings"
)

// tableRef parses `project.dataset.table`, `dataset.table`, dataset.table
// or `project`.`dataset`.`table`.
func (p *parser) tableRef() (tableRef, *apiError) {
	t := p.peek()
	tr := tableRef{pos: t.pos}
	for {
		t := p.peek()
		switch {
		case t.kind == tQuoted:
			p.next()
			tr.parts = append(tr.parts, strings.Split(t.text, ".")...)
		case t.kind == tIdent && !reserved[strings.ToUpper(t.text)]:
			p.next()
			tr.parts = append(tr.parts, t.text)
		default:
			return tr, p.unexpected("table name")
		}
		if !p.acceptSym(".") {
			return tr, nil
		}
	}
}

// alias skips an optional table alias.
func (p *parser) alias() {
	if p.acceptKw("AS") {
		p.next()
		return
	}
	if t := p.peek(); t.kind == tIdent && !reserved[strings.ToUpper(t.text)] {
		p.next()
	}
}

// colRef parses a column name, possibly qualified (alias.col); the last part
// names the column.
func (p *parser) colRef() (ident, *apiError) {
	var id ident
	for {
		t := p.peek()
		if (t.kind != tIdent || reserved[strings.ToUpper(t.text)]) && t.kind != tQuoted {
			return id, p.unexpected("column name")
		}
		p.next()
		id = ident{name: t.text, pos: t.pos}
		if !p.acceptSym(".") {
			return id, nil
		}
	}
}

func (p *parser) insert() (any, *apiError) {
	p.acceptKw("INTO")
	tr, err := p.tableRef()
	if err != nil {
		return nil, err
	}
	st := &insertStmt{table: tr}
	if p.acceptSym("(") {
		for {
			c, err := p.colRef()
			if err != nil {
				return nil, err
			}
			st.cols = append(st.cols, c)
			if p.acceptSym(")") {
				break
			}
			if err := p.expectSym(","); err != nil {
				return nil, err
			}
		}
	}
	if p.acceptKw("VALUES") {
		for {
			if err := p.expectSym("("); err != nil {
				return nil, err
			}
			var row []valExpr
			for {
				v, err := p.value()
				if err != nil {
					return nil, err
				}
				row = append(row, v)
				if p.acceptSym(")") {
					break
				}
				if err := p.expectSym(","); err != nil {
					return nil, err
				}
			}
			st.values = append(st.values, row)
			if !p.acceptSym(",") {
				return st, nil
			}
		}
	}
	if !p.isKw("SELECT") {
		return nil, p.unexpected("keyword SELECT or keyword VALUES")
	}
	st.sel, err = p.selectStmt()
	return st, err
}

func (p *parser) selectStmt() (*selectStmt, *apiError) {
	if err := p.expectKw("SELECT"); err != nil {
		return nil, err
	}
	st := &selectStmt{limit: -1}
	switch {
	case p.acceptSym("*"):
		st.star = true
	case p.isKw("COUNT") && p.toks[p.i+1].kind == tSym && p.toks[p.i+1].text == "(":
		t := p.next()
		p.next()
		if err := p.expectSym("*"); err != nil {
			return nil, err
		}
		if err := p.expectSym(")"); err != nil {
			return nil, err
		}
		st.count = &ident{pos: t.pos}
		if p.acceptKw("AS") {
			a, err := p.colRef()
			if err != nil {
				return nil, err
			}
			st.count.name = a.name
		}
	default:
		for {
			c, err := p.colRef()
			if err != nil {
				return nil, err
			}
			item := selItem{col: c}
			if p.acceptKw("AS") {
				a, err := p.colRef()
				if err != nil {
					return nil, err
				}
				item.alias = a.name
			} else if t := p.peek(); t.kind == tIdent && !reserved[strings.ToUpper(t.text)] {
				p.next()
				item.alias = t.text
			}
			st.items = append(st.items, item)
			if !p.acceptSym(",") {
				break
			}
		}
	}
	if err := p.expectKw("FROM"); err != nil {
		return nil, err
	}
	var err *apiError
	if st.from, err = p.tableRef(); err != nil {
		return nil, err
	}
	p.alias()
	if p.acceptKw("WHERE") {
		if st.where, err = p.cond(); err != nil {
			return nil, err
		}
	}
	if p.acceptKw("ORDER") {
		if err := p.expectKw("BY"); err != nil {
			return nil, err
		}
		for {
			c, err := p.colRef()
			if err != nil {
				return nil, err
			}
			oi := orderItem{col: c}
			if p.acceptKw("DESC") {
				oi.desc = true
			} else {
				p.acceptKw("ASC")
			}
			st.order = append(st.order, oi)
			if !p.acceptSym(",") {
				break
			}
		}
	}
	if p.acceptKw("LIMIT") {
		t := p.peek()
		n, perr := strconv.ParseInt(t.text, 10, 64)
		if t.kind != tNumber || perr != nil || n < 0 {
			return nil, p.unexpected("integer literal")
		}
		p.next()
		st.limit = n
	}
	return st, nil
}

// cond parses predicates joined by AND.
func (p *parser) cond() ([]pred, *apiError) {
	var out []pred
	for {
		pr, err := p.pred()
		if err != nil {
			return nil, err
		}
		out = append(out, pr)
		if !p.acceptKw("AND") {
			if p.isKw("OR") || p.isKw("NOT") {
				return nil, queryErrf("Syntax error: bqfake supports only predicates joined by AND, got keyword %s at [%s]", strings.ToUpper(p.peek().text), position(p.src, p.peek().pos))
			}
			return out, nil
		}
	}
}

func (p *parser) pred() (pred, *apiError) {
	t := p.peek()
	if p.acceptKw("TRUE") {
		return pred{op: "TRUE", pos: t.pos}, nil
	}
	if p.acceptKw("FALSE") {
		return pred{op: "FALSE", pos: t.pos}, nil
	}
	if t.kind == tParam {
		lhs, err := p.value()
		if err != nil {
			return pred{}, err
		}
		op, ok := p.comparison()
		if !ok {
			return pred{}, p.unexpected("comparison operator")
		}
		rhs, err := p.value()
		return pred{op: op, lhs: &lhs, vals: []valExpr{rhs}, pos: t.pos}, err
	}
	col, err := p.colRef()
	if err != nil {
		return pred{}, err
	}
	pr := pred{col: col, pos: t.pos}
	switch {
	case p.acceptKw("BETWEEN"):
		lo, err := p.value()
		if err != nil {
			return pr, err
		}
		if err := p.expectKw("AND"); err != nil {
			return pr, err
		}
		hi, err := p.value()
		pr.op, pr.vals = "BETWEEN", []valExpr{lo, hi}
		return pr, err
	case p.acceptKw("IS"):
		pr.op = "IS NULL"
		if p.acceptKw("NOT") {
			pr.op = "IS NOT NULL"
		}
		return pr, p.expectKw("NULL")
	case p.acceptKw("IN"):
		pr.op = "IN"
		if err := p.expectSym("("); err != nil {
			return pr, err
		}
		for {
			v, err := p.value()
			if err != nil {
				return pr, err
			}
			pr.vals = append(pr.vals, v)
			if p.acceptSym(")") {
				return pr, nil
			}
			if err := p.expectSym(","); err != nil {
				return pr, err
			}
		}
	}
	if op, ok := p.comparison(); ok {
		v, err := p.value()
		pr.op, pr.vals = op, []valExpr{v}
		return pr, err
	}
	return pr, p.unexpected("comparison operator, BETWEEN, IN or IS")
}

// comparison consumes a comparison operator (<> is returned as !=).
func (p *parser) comparison() (string, bool) {
	op := p.peek()
	switch op.text {
	case "=", "!=", "<>", "<", "<=", ">", ">=":
		if op.kind == tSym {
			p.next()
			if op.text == "<>" {
				return "!=", true
			}
			return op.text, true
		}
	}
	return "", false
}

// value parses a literal or a query parameter.
func (p *parser) value() (valExpr, *apiError) {
	start := p.i
	t := p.next()
	v := valExpr{pos: t.pos}
	switch t.kind {
	case tParam:
		v.param = t.text
		return v, nil
	case tString:
		v.v, v.typ = t.text, "STRING"
		return v, nil
	case tNumber:
		return numberLiteral(t.text, v, p)
	case tSym:
		if t.text == "-" && p.peek().kind == tNumber {
			n := p.next()
			return numberLiteral("-"+n.text, v, p)
		}
	case tIdent:
		switch strings.ToUpper(t.text) {
		case "TRUE", "FALSE":
			v.v, v.typ = strings.EqualFold(t.text, "TRUE"), "BOOLEAN"
			return v, nil
		case "NULL":
			return v, nil
		case "DATE", "TIMESTAMP", "DATETIME", "NUMERIC":
			at := p.i
			s := p.next()
			if s.kind != tString {
				p.i = at
				return v, p.unexpected("string literal")
			}
			typ := strings.ToUpper(t.text)
			val, err := parseValue(s.text, typ)
			if err != nil {
				return v, queryErrf("Could not cast literal %q to type %s at [%s]", s.text, typ, position(p.src, s.pos))
			}
			v.v, v.typ = val, typ
			return v, nil
		}
	}
	p.i = start
	return v, p.unexpected("literal or query parameter")
}

func numberLiteral(text string, v valExpr, p *parser) (valExpr, *apiError) {
	if !strings.ContainsAny(text, ".eE") {
		if n, err := strconv.ParseInt(text, 10, 64); err == nil {
			v.v, v.typ = n, "INTEGER"
			return v, nil
		}
	}
	f, err := strconv.ParseFloat(text, 64)
	if err != nil {
		return v, queryErrf("Syntax error: Invalid number %s at [%s]", text, position(p.src, v.pos))
	}
	v.v, v.typ = f, "FLOAT"
	return v, nil
}
