/**
 * The React example (client/examples/react/chat.tsx, hooks over ChatStore) and the React Native component
 * (client/examples/react-native/ChatScreen.tsx) compile, strict, against the package build's declarations as an app
 * gets them, with React's own types (@types/react). React Native and AsyncStorage are not dependencies of this
 * repository: their modules are declared here with the signatures the example uses, copied from their typings; the
 * logic of the React Native screen runs in test/client/react-native.test.ts.
 */
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import { compileProgram, root } from './compile.js';

const REACT_NATIVE_MODULES = `
declare module 'react-native' {
  import type { ReactElement, ReactNode } from 'react';
  export function View(props: { children?: ReactNode }): ReactElement;
  export function Text(props: { children?: ReactNode }): ReactElement;
  export function TextInput(props: { value: string; onChangeText: (text: string) => void }): ReactElement;
  export function Button(props: { title: string; onPress: () => void }): ReactElement;
  export function FlatList<T>(props: {
    data: readonly T[];
    keyExtractor: (item: T) => string;
    renderItem: (info: { item: T; index: number }) => ReactElement | null;
    onEndReached?: () => void;
    inverted?: boolean;
  }): ReactElement;
  export type AppStateStatus = 'active' | 'background' | 'inactive';
  export const AppState: {
    addEventListener(type: 'change', listener: (state: AppStateStatus) => void): { remove(): void };
  };
}
declare module '@react-native-async-storage/async-storage' {
  const AsyncStorage: {
    getItem(key: string): Promise<string | null>;
    setItem(key: string, value: string): Promise<void>;
  };
  export default AsyncStorage;
}
`;

function compile(files: readonly string[], lib: string[], virtual: Record<string, string> = {}): string[] {
  const { program } = compileProgram({ files, virtual, lib });
  return ts
    .getPreEmitDiagnostics(program)
    .map((d) => `${d.file?.fileName.slice(root.length) ?? ''}: ${ts.flattenDiagnosticMessageText(d.messageText, ' ')}`);
}

describe('client/examples', () => {
  it('the React example compiles against the package build with React’s types', () => {
    expect(compile(['client/examples/react/chat.tsx'], ['lib.es2022.d.ts', 'lib.dom.d.ts'])).toEqual([]);
  });

  it('the React Native screen compiles against the package build without the DOM library', () => {
    const diagnostics = compile(['client/examples/react-native/ChatScreen.tsx'], ['lib.es2022.d.ts'], {
      'react-native.d.ts': REACT_NATIVE_MODULES,
    });
    expect(diagnostics).toEqual([]);
  });
});
