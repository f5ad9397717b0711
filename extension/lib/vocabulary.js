// Generated from server/domain/vocabulary.py by `testimone vocabulary`: do not edit by hand.
// tests/test_vocabulary.py fails when this file is out of date.

export const LANGUAGES = Object.freeze(["it", "en"]);
export const KINDS = Object.freeze(["testimonial", "offence"]);
export const PLATFORMS = Object.freeze(["facebook", "tripadvisor", "google", "instagram", "other"]);
export const PURPOSES = Object.freeze(["website", "landing_page", "social", "print", "ads"]);
export const OFFENCE_CATEGORIES = Object.freeze(["insult", "defamation", "threat_or_blackmail", "fake_review", "harassment", "other"]);
export const ACTION_TYPES = Object.freeze(["contacted", "removal_demand_sent", "platform_report", "dsa_notice", "management_response", "lawyer", "complaint_filed", "resolved"]);
export const SIGNALS = Object.freeze(["nonstop_contact", "constant_discount_requests", "resource_drain", "review_blackmail", "impatience", "verbal_aggression"]);
export const PLATFORM_HOSTS = Object.freeze({ "facebook": /(^|\.)(facebook\.com|fb\.com)$/, "tripadvisor": /(^|\.)tripadvisor\.(com?\.)?[a-z]{2,3}$/, "google": /^(www\.|maps\.)?google\.(com?\.)?[a-z]{2,3}$/, "instagram": /(^|\.)instagram\.com$/ });
