package v1alpha1

// Cloud is the Microsoft cloud an organisation lives in. Partner Center and
// Partner Center for Microsoft Cloud for US Government are separate services:
// a partner can only support customers in its own cloud.
// +kubebuilder:validation:Enum=Public;USGovernment
type Cloud string

const (
	CloudPublic       Cloud = "Public"
	CloudUSGovernment Cloud = "USGovernment"
)

// Condition types shared by the kinds of this group. Ready summarises; Reconciling
// and Stalled are the kstatus pair, present only while abnormal.
const (
	// ConditionReady is True when the object is in its desired state.
	ConditionReady = "Ready"
	// ConditionReconciling is True while the operator is still working towards the
	// desired state (kstatus: InProgress).
	ConditionReconciling = "Reconciling"
	// ConditionStalled is True when progress has stopped and needs a person
	// (kstatus: Failed).
	ConditionStalled = "Stalled"
)
