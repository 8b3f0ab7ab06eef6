// Config templates of the stack's services (infra/kafka/server.properties, infra/nginx/nginx.conf).

/** Replaces every ${NAME} of the template; a name without a value is an error, so the template and code stay in step. */
export function renderTemplate(template: string, values: Record<string, string>): string {
  return template.replace(/\$\{([A-Z_]+)\}/g, (_match, name: string) => {
    const value = values[name];
    if (value === undefined) throw new Error(`template variable \${${name}} has no value`);
    return value;
  });
}
