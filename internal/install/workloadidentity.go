package install

import (
	"fmt"
	"path"

	corev1 "k8s.io/api/core/v1"

	"github.com/partnerops/multichannel-operator/internal/entra"
)

// WorkloadIdentityTokenFile is where the chart (workloadIdentity.enabled)
// and config/workload-identity mount the manager's projected token, the
// default of its --workload-identity-token-file flag; Azure Workload
// Identity's webhook uses the same path.
const WorkloadIdentityTokenFile = "/var/run/secrets/azure/tokens/azure-identity-token"

// CheckWorkloadIdentityToken says whether the manager container of spec
// has a projected service-account token for Entra ID at
// WorkloadIdentityTokenFile, read-only.
func CheckWorkloadIdentityToken(spec corev1.PodSpec) error {
	if len(spec.Containers) == 0 {
		return fmt.Errorf("no container")
	}
	for _, v := range spec.Volumes {
		if v.Projected == nil {
			continue
		}
		for _, src := range v.Projected.Sources {
			sat := src.ServiceAccountToken
			if sat == nil {
				continue
			}
			if sat.Audience != entra.FederatedTokenAudience {
				return fmt.Errorf("volume %s projects a token for audience %q, want %s", v.Name, sat.Audience, entra.FederatedTokenAudience)
			}
			for _, m := range spec.Containers[0].VolumeMounts {
				if m.Name == v.Name && path.Join(m.MountPath, sat.Path) == WorkloadIdentityTokenFile && m.ReadOnly {
					return nil
				}
			}
			return fmt.Errorf("volume %s is not mounted read-only so that its token is at %s", v.Name, WorkloadIdentityTokenFile)
		}
	}
	return fmt.Errorf("no projected service-account token volume")
}
