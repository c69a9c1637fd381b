// placeholder: being written
export async function handler(): Promise<{ statusCode: number }> {
  return { statusCode: 200 };
}
