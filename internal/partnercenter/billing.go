package partnercenter

// BillingCycleOneTime is the billing cycle of what is charged once, such as
// the Azure plan (its SKU's supportedBillingCycles: ["one_time"]).
const BillingCycleOneTime = "one_time"
