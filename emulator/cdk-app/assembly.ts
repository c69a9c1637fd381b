/**
 * Reads a synthesized CDK app (a cloud assembly, `cdk.out`): its manifest's CloudFormation stacks, nested
 * assemblies (a CDK Stage's) included, each with its template and the folder its assets were staged in.
 */
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';

export interface AssemblyStack {
  /** The stack's name (CloudFormation's stackName when given, else the artifact id). */
  readonly stackName: string;
  readonly artifactId: string;
  readonly template: CloudFormationTemplate;
  /** The assembly folder: asset paths in the template's metadata are relative to it. */
  readonly directory: string;
}

export interface CloudFormationTemplate {
  readonly Resources?: Readonly<Record<string, TemplateResource>>;
  readonly Parameters?: Readonly<Record<string, { readonly Default?: unknown }>>;
  readonly Conditions?: Readonly<Record<string, unknown>>;
}

export interface TemplateResource {
  readonly Type: string;
  readonly Properties?: Readonly<Record<string, unknown>>;
  readonly Metadata?: Readonly<Record<string, unknown>>;
}

interface Manifest {
  readonly artifacts?: Readonly<Record<string, { type: string; properties?: Record<string, unknown> }>>;
}

/** Not a cloud assembly, or one without stacks. */
export class AssemblyError extends Error {
  override readonly name = 'AssemblyError';
}

export async function readAssembly(directory: string): Promise<AssemblyStack[]> {
  const folder = resolve(directory);
  let manifest: Manifest;
  try {
    manifest = JSON.parse(await readFile(join(folder, 'manifest.json'), 'utf8')) as Manifest;
  } catch (error) {
    throw new AssemblyError(
      `${folder} is not a synthesized CDK app (no readable manifest.json: ${(error as Error).message}); run \`npx cdk synth\` first`,
    );
  }
  const stacks: AssemblyStack[] = [];
  for (const [artifactId, artifact] of Object.entries(manifest.artifacts ?? {})) {
    if (artifact.type === 'aws:cloudformation:stack') {
      const templateFile = String(artifact.properties?.['templateFile'] ?? `${artifactId}.template.json`);
      const template = JSON.parse(await readFile(join(folder, templateFile), 'utf8')) as CloudFormationTemplate;
      const stackName = String(artifact.properties?.['stackName'] ?? artifactId);
      stacks.push({ stackName, artifactId, template, directory: folder });
    } else if (artifact.type === 'cdk:cloud-assembly') {
      stacks.push(...(await readAssembly(join(folder, String(artifact.properties?.['directoryName'])))));
    }
  }
  return stacks;
}
