package estate

import (
	"crypto/sha256"
	"encoding/hex"
	"regexp"
	"strings"
)

// Names are derived from what Partner Center and Graph report, never from
// the order things are read in or from what else the estate holds, so that
// a customer keeps its namespace and an object its name from one import
// to the next, whatever was added or removed since.

// maxLabel is the longest DNS-1123 label: a namespace name.
const maxLabel = 63

var dnsLabel = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`)

// initialDomainSuffix ends the domain Microsoft gives every tenant.
const initialDomainSuffix = ".onmicrosoft.com"

// NamespaceName is a customer's namespace: the label of its initial domain
// (contoso.onmicrosoft.com is contoso), which no other tenant can have.
// Any other domain, a label Kubernetes reserves (default, kube-*) or the
// operator's own namespace is slugged and made unique by a hash of the
// tenant (contoso.com is contoso-com-1a2b3c4d); a customer without a domain
// is tenant-<tenant ID>.
func NamespaceName(domain, tenantID, operatorNamespace string) string {
	d := strings.TrimSuffix(strings.ToLower(strings.TrimSpace(domain)), ".")
	if label, ok := strings.CutSuffix(d, initialDomainSuffix); ok && len(label) <= maxLabel && dnsLabel.MatchString(label) &&
		!reservedNamespace(label, operatorNamespace) {
		return label
	}
	if d == "" {
		return slugWithHash("tenant", tenantID, maxLabel)
	}
	return slugWithHash(d, tenantID, maxLabel)
}

// reservedNamespace: Kubernetes' own namespaces and the operator's.
func reservedNamespace(name, operatorNamespace string) bool {
	return name == "default" || name == "kube" || strings.HasPrefix(name, "kube-") || name == operatorNamespace
}

// slug is s in lower case with every run of other characters than a-z and
// 0-9 made one dash, at most maxLen long, without a dash at either end.
func slug(s string, maxLen int) string {
	var b strings.Builder
	dash := false
	for _, r := range strings.ToLower(s) {
		if (r >= 'a' && r <= 'z') || (r >= '0' && r <= '9') {
			b.WriteRune(r)
			dash = false
		} else if !dash && b.Len() > 0 {
			b.WriteByte('-')
			dash = true
		}
	}
	out := b.String()
	if len(out) > maxLen {
		out = out[:maxLen]
	}
	return strings.Trim(out, "-")
}

// slugWithHash is slug(s) followed by eight hex digits of key's hash, the
// whole at most maxLen long.
func slugWithHash(s, key string, maxLen int) string {
	h := hash8(key)
	if base := slug(s, maxLen-len(h)-1); base != "" {
		return base + "-" + h
	}
	return "x-" + h
}

// hash8 is the first eight hex digits of the SHA-256 of key in lower case.
func hash8(key string) string {
	sum := sha256.Sum256([]byte(strings.ToLower(key)))
	return hex.EncodeToString(sum[:4])
}

// maxPart is how much of a friendly name an object's name keeps.
const maxPart = 40

// subscriptionName names a subscription's object: what it is, and its ID
// (unique in Partner Center and in Azure), such as
// microsoft-365-e3-a356ac8c-e310-44f4-bf85-c7f29044af99.
func subscriptionName(what, id string) string {
	idPart := slug(id, 128)
	if part := slug(what, maxPart); part != "" {
		return part + "-" + idPart
	}
	return "subscription-" + idPart
}

// relationshipName names a GDAP relationship's object after its display
// name, which is unique among the partner's relationships.
func relationshipName(displayName string) string {
	return slugWithHash(displayName, displayName, maxPart+9)
}

// partnerName names a source partner's reference-only Partner: its name
// and the start of its tenant, such as fabrikam-0b4e8e3a.
func partnerName(displayName, tenantID string) string {
	t := slug(tenantID, 8)
	if part := slug(displayName, maxPart); part != "" {
		return part + "-" + t
	}
	return "partner-" + t
}

// resellerRelationshipName is the name the operator itself gives the
// relationship of a customer and a partner, so that it finds the imported
// one and creates none.
func resellerRelationshipName(customer, partner string) string { return customer + "-" + partner }
