const ACCESS = 'kith.access_token'
const REFRESH = 'kith.refresh_token'

export interface TokenPairLike {
  access_token: string
  refresh_token: string
}

export const tokens = {
  get access(): string | null {
    return localStorage.getItem(ACCESS)
  },
  get refresh(): string | null {
    return localStorage.getItem(REFRESH)
  },
  set(pair: TokenPairLike): void {
    localStorage.setItem(ACCESS, pair.access_token)
    localStorage.setItem(REFRESH, pair.refresh_token)
  },
  clear(): void {
    localStorage.removeItem(ACCESS)
    localStorage.removeItem(REFRESH)
  },
}
