/** A host as a URL writes it: an IPv6 address in brackets, once (HOST may already have them: [::1]). */
export const urlHost = (host: string): string => (host.includes(":") && !host.startsWith("[") ? `[${host}]` : host);
