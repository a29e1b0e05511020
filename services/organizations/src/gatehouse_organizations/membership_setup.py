"""Components of organizations, their memberships, the user consent organizations of third-party applications,
invitations and just-in-time provisioning rules, the consumers that keep memberships, consents, invitations and
JIT rules consistent, and those that provision users just in time."""

from gatehouse_platform.consumer import EventConsumer
from gatehouse_platform.service import ServiceContext
from gatehouse_schema.events import SsoConnectorDeleted, UserRegistered, UserSsoIdentityLinked

from gatehouse_organizations.events.jit_provisioning import (
    JIT_SSO_CONNECTORS_CONSUMER,
    SSO_IDENTITY_LINKS_CONSUMER,
    USER_REGISTRATIONS_CONSUMER,
    JitProvisioning,
    JitSsoConnectorCleanup,
    subject_of,
)
from gatehouse_organizations.events.member_cleanup import (
    APPLICATION_MEMBERSHIPS_CONSUMER,
    USER_MEMBERSHIPS_CONSUMER,
    MemberCleanup,
    application_deleted_subject,
    user_deleted_subject,
)
from gatehouse_organizations.persistence.consent_organizations import ConsentOrganizationStore
from gatehouse_organizations.persistence.memberships import MembershipStore
from gatehouse_organizations.persistence.organization_invitations import InvitationStore
from gatehouse_organizations.persistence.organization_jit import JitStore
from gatehouse_organizations.persistence.organizations import OrganizationStore
from gatehouse_organizations.services.consent_organizations import ConsentOrganizationService
from gatehouse_organizations.services.memberships import MembershipService
from gatehouse_organizations.services.organization_invitations import OrganizationInvitationService
from gatehouse_organizations.services.organization_jit import OrganizationJitService
from gatehouse_organizations.services.organizations import OrganizationService

COMPONENTS: tuple[str, ...] = (
    "organizations",
    "memberships",
    "consent_organizations",
    "organization_invitations",
    "organization_jit",
)


async def setup(ctx: ServiceContext) -> None:
    assert ctx.outbox is not None
    organizations, members, consents = OrganizationStore(), MembershipStore(), ConsentOrganizationStore()
    ctx.components["organizations"] = OrganizationService(ctx.engine, organizations, ctx.outbox)
    ctx.components["memberships"] = MembershipService(ctx.engine, organizations, members, ctx.outbox)
    ctx.components["consent_organizations"] = ConsentOrganizationService(ctx.engine, consents)
    invitations = InvitationStore()
    ctx.components["organization_invitations"] = OrganizationInvitationService(
        ctx.engine, invitations, organizations, members, ctx.outbox
    )
    jit = JitStore()
    ctx.components["organization_jit"] = OrganizationJitService(ctx.engine, organizations, jit)
    s = ctx.settings
    cleanup = MemberCleanup(members, consents, invitations, ctx.outbox)
    provisioning = JitProvisioning(organizations, members, jit, ctx.outbox)
    # one consumer per subject: NATS before 2.10 allows one filter subject per consumer
    for durable, subject, handler in (
        (USER_MEMBERSHIPS_CONSUMER, user_deleted_subject(s.subject_prefix), cleanup),
        (APPLICATION_MEMBERSHIPS_CONSUMER, application_deleted_subject(s.subject_prefix), cleanup),
        (USER_REGISTRATIONS_CONSUMER, subject_of(s.subject_prefix, UserRegistered), provisioning),
        (SSO_IDENTITY_LINKS_CONSUMER, subject_of(s.subject_prefix, UserSsoIdentityLinked), provisioning),
        (JIT_SSO_CONNECTORS_CONSUMER, subject_of(s.subject_prefix, SsoConnectorDeleted), JitSsoConnectorCleanup(jit)),
    ):
        consumer = EventConsumer(
            js=ctx.js,
            engine=ctx.engine,
            stream=s.events_stream,
            inbox_schema="organizations",
            durable=durable,
            filter_subject=subject,
            handler=handler,
            subject_prefix=s.subject_prefix,
            max_deliver=s.consumer_max_deliver,
        )
        await consumer.ensure()
        ctx.spawn(consumer.run(), durable)
