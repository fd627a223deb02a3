// One mock provider for every fixture app of a run: prints its base URL, then serves until killed.
import { startMockProvider } from '@tollgate/mock-provider';

const mock = await startMockProvider({ port: 0 });
console.log(mock.openaiBaseUrl);
