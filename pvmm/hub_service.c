// SPDX-License-Identifier: GPL-2.0
/* Registry of service modules, by service id. */
#include <linux/module.h>
#include <linux/mutex.h>

#include "hub.h"

static DEFINE_MUTEX(pvmm_services_lock);
static const struct pvmm_service *pvmm_services[PVMM_SVC_MAX];

/* The service whose VMM controls take ioctl number @nr, or -1. */
int pvmm_ctl_service(unsigned int nr)
{
	switch (nr & 0xf0) {
	case PVMM_CTL_MMU:
		return PVMM_SVC_MMU;
	case PVMM_CTL_SCHED:
		return PVMM_SVC_SCHED;
	case PVMM_CTL_BALLOON:
		return PVMM_SVC_BALLOON;
	case PVMM_CTL_CLOCK:
		return PVMM_SVC_CLOCK;
	case PVMM_CTL_TEST:
		return PVMM_SVC_TEST;
	default:
		return -1;
	}
}

static bool pvmm_service_ctls_ok(const struct pvmm_service *svc)
{
	const struct pvmm_vm_ctl *c;

	for (c = svc->ctls; c < svc->ctls + svc->nr_ctls; c++)
		if (!c->fn || _IOC_TYPE(c->cmd) != PVMM_IOCTL_MAGIC ||
		    pvmm_ctl_service(_IOC_NR(c->cmd)) != svc->id ||
		    _IOC_SIZE(c->cmd) > PVMM_CTL_MAX_SIZE)
			return false;
	return true;
}

/**
 * pvmm_service_register() - make a service available to new VMs
 * @svc: the service; must stay valid until unregistered
 *
 * Return: 0, -EINVAL for a bad id, a missing call handler or a control
 * outside the service's range, or -EBUSY when the id is taken.
 */
int pvmm_service_register(const struct pvmm_service *svc)
{
	int r = 0;

	if (svc->id == PVMM_SVC_HUB || svc->id >= PVMM_SVC_MAX || !svc->call ||
	    !pvmm_service_ctls_ok(svc))
		return -EINVAL;
	mutex_lock(&pvmm_services_lock);
	if (pvmm_services[svc->id])
		r = -EBUSY;
	else
		pvmm_services[svc->id] = svc;
	mutex_unlock(&pvmm_services_lock);
	return r;
}
EXPORT_SYMBOL_GPL(pvmm_service_register);

/**
 * pvmm_service_unregister() - take a service away from new VMs
 * @svc: what pvmm_service_register() was given
 *
 * Context: the service's module exit. No VM uses the service then,
 * because each VM that enabled it holds a reference on its module.
 */
void pvmm_service_unregister(const struct pvmm_service *svc)
{
	mutex_lock(&pvmm_services_lock);
	if (svc->id < PVMM_SVC_MAX && pvmm_services[svc->id] == svc)
		pvmm_services[svc->id] = NULL;
	mutex_unlock(&pvmm_services_lock);
}
EXPORT_SYMBOL_GPL(pvmm_service_unregister);

/* The service with a reference on its module, or NULL. */
const struct pvmm_service *pvmm_service_get(unsigned int id)
{
	const struct pvmm_service *svc;

	mutex_lock(&pvmm_services_lock);
	svc = pvmm_services[id];
	if (svc && !try_module_get(svc->owner))
		svc = NULL;
	mutex_unlock(&pvmm_services_lock);
	return svc;
}

u64 pvmm_services_loaded(void)
{
	u64 mask = BIT_ULL(PVMM_SVC_HUB);
	unsigned int i;

	mutex_lock(&pvmm_services_lock);
	for (i = 0; i < PVMM_SVC_MAX; i++)
		if (pvmm_services[i])
			mask |= BIT_ULL(i);
	mutex_unlock(&pvmm_services_lock);
	return mask;
}
